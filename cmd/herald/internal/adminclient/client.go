// Package adminclient is a typed Go client for Herald's admin API
// (/admin/v1), used by the `herald admin` CLI and the end-to-end tests.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// Client calls one Herald admin API. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client for the Herald at baseURL (for example
// "http://127.0.0.1:6001") that authenticates with the admin token. A nil
// httpClient means http.DefaultClient.
func New(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: httpClient}
}

// APIError is a non-2xx answer of the admin API.
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Code is the snake_case error code, such as "not_found"; empty when
	// the answer was not in Herald's error shape.
	Code string
	// Message is the server's explanation.
	Message string
	// Field names the request field at fault, if any.
	Field string
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (field %s)", e.Field)
	}
	return b.String()
}

// NotAPIError is an answer that is not JSON from Herald's admin API: the
// base URL leads to another server, or to a page of Herald's rather than
// its API.
type NotAPIError struct {
	// Status is the HTTP status line, such as "200 OK".
	Status string
	// ContentType is the answer's Content-Type header, empty when absent.
	ContentType string
}

// Error implements error.
func (e *NotAPIError) Error() string {
	ct := e.ContentType
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("the answer (%s, %s) is not JSON from Herald's admin API", e.Status, ct)
}

// isJSON reports whether a Content-Type header names JSON.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// do sends one request. in, when not nil, is sent as JSON; out, when not
// nil, receives the JSON answer.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err // a *url.Error, which names the method and URL
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readAPIError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body) // lets the connection be reused
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); !isJSON(ct) {
		return fmt.Errorf("%s %s: %w", method, path, &NotAPIError{Status: resp.Status, ContentType: ct})
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func readAPIError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{Status: resp.StatusCode}
	var shaped struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &shaped) == nil && shaped.Error.Code != "" {
		e.Code, e.Message, e.Field = shaped.Error.Code, shaped.Error.Message, shaped.Error.Field
		return e
	}
	// A page (an HTML 404 of another server) says nothing worth printing;
	// plain text (a proxy's "bad gateway") does.
	ct := resp.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); len(raw) > 0 && mt != "text/plain" && !isJSON(ct) {
		return &NotAPIError{Status: resp.Status, ContentType: ct}
	}
	e.Message = strings.TrimSpace(string(raw))
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}
