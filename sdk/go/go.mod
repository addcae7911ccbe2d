module github.com/heraldhq/herald/sdk/go

go 1.24.0

require (
	github.com/coder/websocket v1.8.15
	github.com/golang-jwt/jwt/v5 v5.3.1
	golang.org/x/crypto v0.48.0
)

require golang.org/x/sys v0.41.0 // indirect
