package postgres

import "strings"

// likeEscaper makes a string match itself in a LIKE or ILIKE pattern
// with ESCAPE '\': its wildcards and the escape character are escaped.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func escapeLike(s string) string {
	return likeEscaper.Replace(s)
}
