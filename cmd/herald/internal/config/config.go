// Package config applies Herald's one rule for settings: every flag
// --foo-bar has an environment variable HERALD_FOO_BAR, and a flag given on
// the command line wins over the environment, which wins over the default.
package config

import (
	"flag"
	"fmt"
	"strings"
)

// EnvPrefix starts every Herald environment variable.
const EnvPrefix = "HERALD_"

// EnvName returns the environment variable of a flag: "foo-bar" gives
// "HERALD_FOO_BAR".
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args into fs, then sets every flag that was not given on the
// command line from its environment variable, read through getenv (pass
// os.Getenv). An environment value that does not parse is an error naming
// the variable.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		name := EnvName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%s: %w", name, e)
		}
	})
	return err
}
