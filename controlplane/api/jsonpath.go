package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// Errors name a field of a body by its path from the root, as the README
// promises: "settings.allowed_origins[2]", "limits.bogus". encoding/json
// names a wrong type without array indexes and an unknown field without
// its parents, so both are located again in the body as sent.

// jsonSeg is one step of a path: a key of an object or an index of an
// array.
type jsonSeg struct {
	key     string
	index   int
	inArray bool
}

// jsonPath is the path of a value in a body; empty for the body itself.
type jsonPath []jsonSeg

func (p jsonPath) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.inArray {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// child is the path of key in the object at p.
func (p jsonPath) child(key string) string {
	return append(p[:len(p):len(p)], jsonSeg{key: key}).String()
}

// jsonToken is one step of walkJSON: a key of the object at path, or the
// start of the value at path. raw is the token as sent, after any
// separator and blanks before it; end is the offset just past it. path is
// only valid during the call.
type jsonToken struct {
	path jsonPath
	key  bool
	tok  json.Token
	raw  []byte
	end  int64
}

// walkJSON calls visit for each key and each value of body in order (for
// an object or array, with its opening delimiter), until visit returns
// false or the first syntax error, which is the decoder's to report.
func walkJSON(body []byte, visit func(jsonToken) bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	// path has one step per open object or array: its current key or
	// index; wantKey is, per open object, whether a key comes next.
	var (
		path    jsonPath
		wantKey []bool
	)
	// next moves the innermost container past a complete value.
	next := func() {
		if n := len(path); n > 0 {
			if path[n-1].inArray {
				path[n-1].index++
			} else {
				wantKey[n-1] = true
			}
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return
		}
		t := jsonToken{path: path, tok: tok, raw: body[start:dec.InputOffset()], end: dec.InputOffset()}
		n := len(path)
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			path, wantKey = path[:n-1], wantKey[:n-1]
			next()
			continue
		}
		if n > 0 && !path[n-1].inArray && wantKey[n-1] {
			t.path, t.key = path[:n-1], true
			if !visit(t) {
				return
			}
			path[n-1].key, wantKey[n-1] = tok.(string), false
			continue
		}
		if !visit(t) {
			return
		}
		if d, ok := tok.(json.Delim); ok {
			path = append(path, jsonSeg{inArray: d == '['})
			wantKey = append(wantKey, d == '{')
			continue
		}
		next()
	}
}

// valuePathAt is the path of the value of body that ends at offset, as
// json.UnmarshalTypeError.Offset gives it (for an object or array, just
// past its opening delimiter).
func valuePathAt(body []byte, offset int64) (string, bool) {
	var found string
	ok := false
	walkJSON(body, func(t jsonToken) bool {
		if !t.key && t.end == offset {
			found, ok = t.path.String(), true
		}
		return !ok
	})
	return found, ok
}

// unknownFieldPath is the path of the first key named name that no field
// of its object's struct in t takes, as encoding/json reports it with
// DisallowUnknownFields.
func unknownFieldPath(body []byte, t reflect.Type, name string) (string, bool) {
	var found string
	ok := false
	walkJSON(body, func(tok jsonToken) bool {
		if !tok.key || tok.tok.(string) != name {
			return true
		}
		st := typeAt(t, tok.path)
		if st == nil || st.Kind() != reflect.Struct {
			return true
		}
		if _, known := jsonField(st, name); !known {
			found, ok = tok.path.child(name), true
		}
		return !ok
	})
	return found, ok
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// typeAt is the type that decodes the value at p of a body decoded into
// t, pointers removed; nil when unknown (a type that decodes itself, an
// interface, a path that does not fit t).
func typeAt(t reflect.Type, p jsonPath) reflect.Type {
	for i := 0; ; i++ {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil
		}
		if i == len(p) {
			return t
		}
		switch k := t.Kind(); {
		case p[i].inArray && (k == reflect.Slice || k == reflect.Array):
			t = t.Elem()
		case !p[i].inArray && k == reflect.Map:
			t = t.Elem()
		case !p[i].inArray && k == reflect.Struct:
			f, ok := jsonField(t, p[i].key)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
}

// jsonField is the field of struct t that encoding/json decodes key into:
// the one so named, else one whose name matches ignoring case.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold *reflect.StructField
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			continue // its fields are promoted
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = &f
		}
	}
	if fold != nil {
		return *fold, true
	}
	return reflect.StructField{}, false
}
