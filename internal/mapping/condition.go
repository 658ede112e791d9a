package mapping

import (
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"

	"github.com/accordhq/accord/internal/spec"
)

// Condition is a compiled trigger condition (a CEL boolean over an object).
type Condition struct {
	obj *spec.Object
	prg cel.Program
}

// NewCondition compiles expr over obj; an empty expr always matches.
// costLimit 0 means the Config default.
func NewCondition(obj *spec.Object, expr string, costLimit uint64) (*Condition, error) {
	c := &Condition{obj: obj}
	if strings.TrimSpace(expr) == "" {
		return c, nil
	}
	if costLimit == 0 {
		costLimit = 100_000
	}
	env, err := spec.CELEnv(obj)
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("condition: %w", iss.Err())
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("condition: must be true or false, is %s", ast.OutputType())
	}
	c.prg, err = env.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, fmt.Errorf("condition: %w", err)
	}
	return c, nil
}

// Match evaluates the condition on one record. A record lacking a field the
// condition reads does not match (it is not an error: partners omit empty
// fields).
func (c *Condition) Match(doc map[string]any) (bool, error) {
	if c.prg == nil {
		return true, nil
	}
	out, _, err := c.prg.Eval(spec.Activation(c.obj, doc))
	if err != nil {
		if strings.Contains(err.Error(), "no such attribute") || strings.Contains(err.Error(), "no such key") {
			return false, nil
		}
		return false, fmt.Errorf("%w: %v", ErrExpr, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("%w: condition gave %v, not true or false", ErrExpr, out.Value())
	}
	return b, nil
}
