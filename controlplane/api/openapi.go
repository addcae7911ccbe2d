package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/controlplane"
)

// openAPIVersion is the version of the OpenAPI specification the document
// follows.
const openAPIVersion = "3.0.3"

// bearerScheme names the admin token security scheme in the document.
const bearerScheme = "adminToken"

// docInfo heads an OpenAPI document.
type docInfo struct {
	title, version, description string
}

// echoParam matches a path parameter in echo's syntax.
var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openAPIPath turns "/apps/:id" into "/apps/{id}" and lists the names.
func openAPIPath(p string) (string, []string) {
	var names []string
	for _, m := range echoParam.FindAllStringSubmatch(p, -1) {
		names = append(names, m[1])
	}
	return echoParam.ReplaceAllString(p, "{$1}"), names
}

// buildOpenAPI renders the OpenAPI 3.0 document of a route table.
func buildOpenAPI(info docInfo, routes []route) ([]byte, error) {
	schemas := newSchemaSet()
	errRef, err := schemas.schemaOf(typeOf[errorBody]())
	if err != nil {
		return nil, err
	}
	errResponse := map[string]any{
		"description": "Error: {\"error\":{\"code\",\"message\",\"field\"?}}; field is the path of the input at fault, such as settings.allowed_origins[2], limits.max_connections or cursor.",
		"content":     jsonContent(errRef),
	}
	paths := map[string]map[string]any{}
	for _, r := range routes {
		op, err := operation(r, schemas, errResponse)
		if err != nil {
			return nil, err
		}
		p, _ := openAPIPath(r.path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.method)] = op
	}
	doc := map[string]any{
		"openapi": openAPIVersion,
		"info": map[string]any{
			"title": info.title, "version": info.version, "description": info.description,
		},
		"security": []any{map[string]any{bearerScheme: []string{}}},
		"paths":    paths,
		"components": map[string]any{
			"schemas": schemas.components,
			"securitySchemes": map[string]any{
				bearerScheme: map[string]any{"type": "http", "scheme": "bearer",
					"description": "The bootstrap admin token from the configuration, or a token made with POST /admin/v1/tokens."},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// operation describes one route.
func operation(r route, schemas *schemaSet, errResponse map[string]any) (map[string]any, error) {
	op := map[string]any{
		"operationId": r.id,
		"summary":     r.summary,
		"tags":        []string{r.tag},
	}
	if r.public {
		op["security"] = []any{}
	}
	var params []any
	_, names := openAPIPath(r.path)
	for _, n := range names {
		params = append(params, map[string]any{
			"name": n, "in": "path", "required": true, "schema": map[string]any{"type": "string"},
		})
	}
	for _, q := range r.query {
		typ := "string"
		if q.integer {
			typ = "integer"
		}
		params = append(params, map[string]any{
			"name": q.name, "in": "query", "description": q.description,
			"schema": map[string]any{"type": typ},
		})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if r.request != nil {
		s, err := schemas.schemaOf(r.request)
		if err != nil {
			return nil, err
		}
		op["requestBody"] = map[string]any{"required": !r.requestOptional, "content": jsonContent(s)}
	}
	success := map[string]any{"description": http.StatusText(r.status)}
	switch {
	case r.list:
		s, err := schemas.listSchema(r.response)
		if err != nil {
			return nil, err
		}
		success["content"] = jsonContent(s)
	case r.eventStream:
		s, err := schemas.schemaOf(r.response)
		if err != nil {
			return nil, err
		}
		// OpenAPI 3.0 cannot type the items of a stream: the schema of a
		// data line rides along as an extension.
		success["content"] = map[string]any{mimeEventStream: map[string]any{
			"schema":         map[string]any{"type": "string", "description": "Server-Sent Events: one `data: <JSON>` line per event (the x-event-schema object), comment lines as heartbeats."},
			"x-event-schema": s,
		}}
	case r.response != nil:
		s, err := schemas.schemaOf(r.response)
		if err != nil {
			return nil, err
		}
		success["content"] = jsonContent(s)
	case r.freeForm:
		success["content"] = jsonContent(map[string]any{"type": "object"})
	}
	if r.csv {
		success["content"].(map[string]any)[mimeCSV] = map[string]any{"schema": map[string]any{
			"type": "string", "description": "A header row (" + strings.Join(controlplane.UsageCSVHeader(), ",") + "), then one row per item.",
		}}
	}
	op["responses"] = map[string]any{strconv.Itoa(r.status): success, "default": errResponse}
	return op, nil
}

func jsonContent(schema map[string]any) map[string]any {
	return map[string]any{echo.MIMEApplicationJSON: map[string]any{"schema": schema}}
}

// serveOpenAPI answers the document rendered by New.
func (a *API) serveOpenAPI(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, a.openapi)
}
