package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
)

// decodeJSON reads the request body into dst, which must be a pointer to a
// struct. Unknown fields, wrong types, trailing data, strings unfit to
// store (checkJSONText) and, unless optional, an empty body are bad
// requests naming the field at fault; a body over MaxBodyBytes is 413.
func (a *API) decodeJSON(c echo.Context, dst any, optional bool) error {
	// Read whole, so that checkJSONText sees the literals as sent; the
	// body is bounded by limitBody.
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return a.decodeError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if errors.Is(err, io.EOF) {
		if optional {
			return nil
		}
		return channels.BadRequest("", "request body is required: a JSON object")
	}
	if err != nil {
		return a.bodyError(err, body, reflect.TypeOf(dst))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return a.decodeError(err)
		}
		return channels.BadRequest("", "malformed JSON: data after the object")
	}
	return checkJSONText(body)
}

// decodeError names what is wrong with a body that did not decode.
func (a *API) decodeError(err error) error { return a.bodyError(err, nil, nil) }

// bodyError is decodeError for body, decoded into a value of type dst:
// the field at fault is named by its whole path (jsonPath), which
// encoding/json does not give.
func (a *API) bodyError(err error, body []byte, dst reflect.Type) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge(a.maxBody)
	}
	// A type of the request that decodes itself (billing.LimitsPatch)
	// names the field at fault itself.
	var own *channels.Error
	if errors.As(err, &own) {
		return own
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return channels.BadRequest("", "request body must be a JSON object")
		}
		field := typeErr.Field
		if p, ok := valuePathAt(body, typeErr.Offset); ok && p != "" {
			field = p
		}
		return channels.BadRequest(field, fmt.Sprintf("%s must be %s", field, describeKind(typeErr.Type)))
	}
	// encoding/json reports unknown fields only in the message, by
	// their name alone.
	const unknownPrefix = `json: unknown field "`
	if msg := err.Error(); strings.HasPrefix(msg, unknownPrefix) {
		field := strings.TrimSuffix(strings.TrimPrefix(msg, unknownPrefix), `"`)
		if p, ok := unknownFieldPath(body, dst, field); ok {
			field = p
		}
		return channels.BadRequest(field, fmt.Sprintf("unknown field %q", field))
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return channels.BadRequest("", "malformed JSON: "+err.Error())
	}
	// Reading the body failed: the client went away or sent a broken
	// chunked encoding; either way it is the request that is bad.
	return channels.BadRequest("", "cannot read request body")
}

func describeKind(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
