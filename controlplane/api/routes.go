package api

import (
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
)

// route is one entry of a route table: what echo registers and what the
// OpenAPI document describes come from the same value.
type route struct {
	method string
	// path uses echo's syntax (":id"); the document shows "{id}".
	path    string
	id      string // OpenAPI operationId
	summary string
	tag     string
	// public routes need no admin token.
	public bool
	// status is the success status.
	status int
	// request is the JSON body type, nil when the route takes none.
	request reflect.Type
	// requestOptional says that the body may be omitted.
	requestOptional bool
	// response is the success body type; nil means no body (204) or,
	// with freeForm, a document described as any object.
	response reflect.Type
	// list wraps response in the page envelope {"items", "next_cursor"}.
	list     bool
	freeForm bool
	// csv says the route also answers text/csv when asked.
	csv bool
	// eventStream says the route answers Server-Sent Events
	// (text/event-stream), each data line a response as JSON.
	eventStream bool
	query       []queryParam
	// tokenOp, on a tenant route, also accepts Authorization: Bearer
	// with a token whose capabilities grant this operation on the
	// route's channel.
	tokenOp channels.Operation
	handler echo.HandlerFunc
}

// queryParam describes one query string parameter of a route.
type queryParam struct {
	name        string
	description string
	integer     bool
}

// pageParams returns the query parameters of every list route.
func pageParams() []queryParam {
	return []queryParam{
		{name: "limit", description: "Page size, 1 to 500 (default 50).", integer: true},
		{name: "cursor", description: "The next_cursor of the previous page; a value this list could not have answered is a 400 naming cursor."},
	}
}

// typeOf returns the reflect.Type of T, for route tables.
func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }
