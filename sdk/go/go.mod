module github.com/heraldhq/herald/sdk/go

go 1.24.0
