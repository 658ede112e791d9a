package mapping

import (
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
)

var operatorNames = map[string]string{
	"_+_": "+", "_-_": "-", "_*_": "*", "_/_": "/", "_%_": "%",
	"_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">=", "_==_": "==", "_!=_": "!=", "-_": "-",
}

// exprError explains a CEL run-time failure: where the row is in the
// contract, which operator met which operand types, and the usual fix
// (JSON numbers are double unless the manifest declares them int).
// cel-go only says "no such overload", so the expression is evaluated
// again with state tracking (on this failure path only) to find the call
// that failed and the types it was given.
func (r *row) exprError(err error, act interpreter.Activation) error {
	msg := err.Error()
	if strings.Contains(msg, "no such overload") && act != nil && r.ast != nil {
		if call := r.failedCall(act); call != "" {
			msg = "no such overload: " + call
			if strings.Contains(call, "double") && strings.Contains(call, "int") {
				msg += " (numbers the manifest does not declare `type: int` are double: write 100.0, or convert with double(…) or int(…))"
			}
		}
	}
	if r.at != "" {
		return fmt.Errorf("%w at %s: %s", ErrExpr, r.at, msg)
	}
	return fmt.Errorf("%w: %s", ErrExpr, msg)
}

// failedCall returns the innermost call whose arguments evaluated but which
// itself failed, as "double / int" or "sum(list(string))".
func (r *row) failedCall(act interpreter.Activation) string {
	prg, err := r.env.Program(r.ast, cel.EvalOptions(cel.OptTrackState))
	if err != nil {
		return ""
	}
	_, det, _ := prg.Eval(act)
	if det == nil {
		return ""
	}
	state := det.State()
	typeOf := func(e celast.Expr) (string, bool) {
		v, ok := state.Value(e.ID())
		if !ok || types.IsError(v) || types.IsUnknown(v) {
			return "", false
		}
		return v.Type().TypeName(), true
	}
	var found string
	var visit func(e celast.Expr)
	visit = func(e celast.Expr) {
		if found != "" {
			return
		}
		switch e.Kind() {
		case celast.CallKind:
			c := e.AsCall()
			args := c.Args()
			if c.IsMemberFunction() {
				args = append([]celast.Expr{c.Target()}, args...)
			}
			for _, a := range args {
				visit(a)
			}
			if found != "" {
				return
			}
			if v, ok := state.Value(e.ID()); !ok || !types.IsError(v) {
				return
			}
			names := make([]string, 0, len(args))
			for _, a := range args {
				t, ok := typeOf(a)
				if !ok {
					return
				}
				names = append(names, t)
			}
			if op, ok := operatorNames[c.FunctionName()]; ok && len(names) == 2 {
				found = names[0] + " " + op + " " + names[1]
			} else {
				found = c.FunctionName() + "(" + strings.Join(names, ", ") + ")"
			}
		case celast.SelectKind:
			visit(e.AsSelect().Operand())
		case celast.ListKind:
			for _, el := range e.AsList().Elements() {
				visit(el)
			}
		case celast.ComprehensionKind:
			c := e.AsComprehension()
			visit(c.IterRange())
			visit(c.LoopStep())
			visit(c.Result())
		}
	}
	visit(r.ast.NativeRep().Expr())
	return found
}
