package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// schemaSet derives OpenAPI 3.0 schemas from the Go types the handlers
// encode and decode, so that the document follows the code. Named struct
// types become components referenced by name.
type schemaSet struct {
	components map[string]any
	names      map[string]reflect.Type
}

func newSchemaSet() *schemaSet {
	return &schemaSet{components: map[string]any{}, names: map[string]reflect.Type{}}
}

var (
	timeType           = reflect.TypeFor[time.Time]()
	rawType            = reflect.TypeFor[json.RawMessage]()
	schemaProviderType = reflect.TypeFor[schemaProvider]()
)

// schemaProvider is a type that states its own schema, where the Go type
// says too little (a raw value that tells absent from null).
type schemaProvider interface {
	openAPISchema() map[string]any
}

// schemaOf returns the schema of t: a $ref for named structs, inline
// otherwise.
func (s *schemaSet) schemaOf(t reflect.Type) (map[string]any, error) {
	if t.Kind() != reflect.Pointer && t.Implements(schemaProviderType) {
		return reflect.Zero(t).Interface().(schemaProvider).openAPISchema(), nil
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case t == rawType:
		return map[string]any{"description": "Any JSON value."}, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner, err := s.schemaOf(t.Elem())
		if err != nil {
			return nil, err
		}
		if _, isRef := inner["$ref"]; isRef {
			// OpenAPI 3.0 ignores siblings of $ref.
			return map[string]any{"allOf": []any{inner}, "nullable": true}, nil
		}
		inner["nullable"] = true
		return inner, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint64:
		return map[string]any{"type": "integer"}, nil
	case reflect.Float64:
		return map[string]any{"type": "number"}, nil
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}, nil
		}
		items, err := s.schemaOf(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			break
		}
		values, err := s.schemaOf(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": values}, nil
	case reflect.Struct:
		return s.component(t)
	}
	return nil, fmt.Errorf("no schema for Go type %s", t)
}

// component registers a named struct type once and returns a reference.
func (s *schemaSet) component(t reflect.Type) (map[string]any, error) {
	name := exportedName(t.Name())
	if name == "" {
		return nil, fmt.Errorf("anonymous struct %s has no schema name", t)
	}
	if prev, ok := s.names[name]; ok {
		if prev != t {
			return nil, fmt.Errorf("schema name %s used by %s and %s", name, prev, t)
		}
		return refTo(name), nil
	}
	s.names[name] = t
	obj := map[string]any{"type": "object", "additionalProperties": false}
	props := map[string]any{}
	var required []string
	if err := s.fields(t, props, &required); err != nil {
		return nil, err
	}
	obj["properties"] = props
	if len(required) > 0 {
		obj["required"] = required
	}
	s.components[name] = obj
	return refTo(name), nil
}

// fields adds t's JSON fields to props; embedded structs are flattened as
// encoding/json does. A field without omitempty is required: it is always
// present in answers, and requests that omit it are refused.
func (s *schemaSet) fields(t reflect.Type, props map[string]any, required *[]string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := s.fields(f.Type, props, required); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		schema, err := s.schemaOf(f.Type)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		props[name] = schema
		if !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
	return nil
}

// listSchema registers the page envelope of item type t as "<Item>List".
func (s *schemaSet) listSchema(t reflect.Type) (map[string]any, error) {
	item, err := s.schemaOf(t)
	if err != nil {
		return nil, err
	}
	name := exportedName(t.Name()) + "List"
	if _, ok := s.components[name]; !ok {
		s.components[name] = map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"required":             []string{"items", "next_cursor"},
			"properties": map[string]any{
				"items":       map[string]any{"type": "array", "items": item},
				"next_cursor": map[string]any{"type": "string", "nullable": true, "description": "Pass as ?cursor= for the next page; null on the last page."},
			},
		}
	}
	return refTo(name), nil
}

func refTo(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// exportedName turns Go type names such as createAppRequest into schema
// names such as CreateAppRequest.
func exportedName(n string) string {
	r, size := utf8.DecodeRuneInString(n)
	if size == 0 {
		return ""
	}
	return string(unicode.ToUpper(r)) + n[size:]
}
