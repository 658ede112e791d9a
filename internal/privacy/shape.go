package privacy

import (
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

// Shape is what of a JSON document is kept. It is built once from a
// manifest and applied to many documents; it is safe for concurrent use.
// A nil *Shape keeps everything.
type Shape struct {
	whole  bool              // keep the value as it is
	fields map[string]*Shape // an object: only these keys, each by its shape
	items  *Shape            // a list: each element by this shape
}

var keepAll = &Shape{whole: true}

// ObjectShape is what of a record of obj is kept: its declared fields and
// the fields the manifest names for its id, version, updated_at and
// merged_ids. An object that declares no fields is kept whole.
func ObjectShape(obj *spec.Object) *Shape {
	if obj == nil || len(obj.Fields) == 0 {
		return keepAll
	}
	s := fieldsShape(obj.Fields)
	for _, path := range []string{obj.IDField(), obj.Version, obj.UpdatedAt, obj.MergedIDs} {
		s.keep(path)
	}
	return s
}

func fieldsShape(fields map[string]*spec.Field) *Shape {
	s := &Shape{fields: make(map[string]*Shape, len(fields))}
	for name, f := range fields {
		s.fields[name] = fieldShape(f)
	}
	return s
}

func fieldShape(f *spec.Field) *Shape {
	switch {
	case f == nil:
		return keepAll
	case f.Type == spec.TypeObject && len(f.Fields) > 0:
		return fieldsShape(f.Fields)
	case f.Type == spec.TypeList && f.Items != nil:
		if items := fieldShape(f.Items); !items.whole {
			return &Shape{items: items}
		}
	}
	return keepAll
}

// keep adds a dotted body path to s: the value there is kept whole. A
// header location or an empty path adds nothing.
func (s *Shape) keep(path string) {
	if path == "" || strings.HasPrefix(path, "header:") {
		return
	}
	s.graft(strings.Split(path, "."), keepAll)
}

// graft puts sub at segs below s, creating the objects on the way; a
// value already kept whole on the way stays whole.
func (s *Shape) graft(segs []string, sub *Shape) {
	cur := s
	for i, seg := range segs {
		if cur.whole {
			return
		}
		if cur.fields == nil {
			// A list or a value where the path expects an object: keep it.
			return
		}
		next, ok := cur.fields[seg]
		if i == len(segs)-1 {
			if !ok || sub.whole {
				cur.fields[seg] = sub
			} else if !next.whole {
				// Both shapes know fields here: keep the union.
				for k, v := range sub.fields {
					next.graft([]string{k}, v)
				}
			}
			return
		}
		if !ok {
			next = &Shape{fields: map[string]*Shape{}}
			cur.fields[seg] = next
		}
		cur = next
	}
}

// EventShape is what of a webhook event of type eventType is kept: the
// body locations p's webhooks section reads, and at its object path the
// shape of the object the event carries (the whole body when there is no
// object path). It returns nil, keep everything, for an event type the
// manifest does not list: such events are not stored.
func EventShape(p *spec.Provider, eventType string) *Shape {
	w := p.Webhooks
	if w == nil {
		return nil
	}
	et := w.Events[eventType]
	if et == nil {
		return nil
	}
	obj := ObjectShape(p.Objects[et.Object])
	var s *Shape
	if w.Object == "" {
		if obj.whole {
			return keepAll
		}
		s = obj.clone()
	} else {
		s = &Shape{fields: map[string]*Shape{}}
		s.graft(strings.Split(w.Object, "."), obj.clone())
	}
	for _, path := range []string{w.EventID, w.EventType, w.ObjectIDPath(et), w.ObjectVersionPath(et)} {
		s.keep(path)
	}
	return s
}

// clone copies s deep enough that grafting on the copy leaves s alone.
func (s *Shape) clone() *Shape {
	if s.whole {
		return s
	}
	c := &Shape{}
	if s.items != nil {
		c.items = s.items.clone()
	}
	if s.fields != nil {
		c.fields = make(map[string]*Shape, len(s.fields))
		for k, v := range s.fields {
			c.fields[k] = v.clone()
		}
	}
	return c
}

// Apply returns doc with only what s keeps, and how many keys it dropped
// (a dropped key counts once, whatever it held). doc is not modified. A
// value whose JSON kind is not what s expects (a string where an object
// is declared) is kept as it is: it is the declared field's value.
func (s *Shape) Apply(doc any) (kept any, dropped int) {
	if s == nil || s.whole {
		return doc, 0
	}
	switch v := doc.(type) {
	case map[string]any:
		if s.fields == nil {
			return doc, 0
		}
		out := make(map[string]any, min(len(v), len(s.fields)))
		for k, x := range v {
			sub, ok := s.fields[k]
			if !ok {
				dropped++
				continue
			}
			var n int
			out[k], n = sub.Apply(x)
			dropped += n
		}
		return out, dropped
	case []any:
		if s.items == nil {
			return doc, 0
		}
		out := make([]any, len(v))
		for i, x := range v {
			var n int
			out[i], n = s.items.Apply(x)
			dropped += n
		}
		return out, dropped
	}
	return doc, 0
}

// Minimise returns a record of obj pruned to what obj declares (see
// ObjectShape), and how many keys it dropped. Callers that minimise many
// records build the Shape once instead.
func Minimise(obj *spec.Object, doc any) (kept any, dropped int) {
	return ObjectShape(obj).Apply(doc)
}
