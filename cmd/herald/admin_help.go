package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/heraldhq/herald/controlplane"
)

// adminSynopsis is the usage of each resource, line by line, under the
// resource (or resource of a resource) it belongs to: the general usage
// prints every line, a resource's help its own.
var adminSynopsis = []struct{ resource, line string }{
	{"accounts", "accounts list | get ID | delete ID | create --name N"},
	{"accounts", "accounts set-plan --account ID [--plan ID]   (no plan: unlimited)"},
	{"plans", "plans    list | get ID | delete ID"},
	{"plans", "plans    create --name N --enforcement hard|soft [--id ID] [--LIMIT N ...]"},
	{"plans", "plans    update ID [--name N] [--enforcement E] [--LIMIT N ...]"},
	{"apps", "apps     list [--account ID] [--search TEXT] | get ID | delete ID"},
	{"apps", "apps     create --account ID --name N [--id ID] [--set key=value ...]"},
	{"apps", "apps     update ID [--name N] [--enabled true|false] [--set key=value ...]"},
	{"keys", "keys     list APP | create APP | revoke APP KEY"},
	{"tokens", "tokens   list | create --name N | revoke ID"},
	{"signing-keys", "signing-keys  list | rotate | retire KID"},
	{"audit", "audit    list"},
	{"webhooks", "webhooks list APP | get APP ID | delete APP ID | test APP ID"},
	{"webhooks", "webhooks create APP URL [--events a,b] [--batch true|false] [--enabled true|false]"},
	{"webhooks", "         [--channel-filter P] [--header Name=value ...]"},
	{"webhooks", "webhooks update APP ID [--endpoint URL] [the options of create]"},
	{"webhooks", "webhooks deliveries APP ID [--status pending|delivered|failed]"},
	{"webhooks", "webhooks redeliver APP ID DELIVERY"},
	{"webhooks operator", "webhooks operator list | get ID | remove ID | test ID"},
	{"webhooks operator", "webhooks operator add URL [--events quota_warning,quota_reached,quota_exceeded] [--enabled true|false]"},
	{"webhooks operator", "         [--header Name=value ...]   (prints the signing secret, once)"},
	{"webhooks operator", "webhooks operator update ID [--endpoint URL] [the options of add]"},
	{"webhooks operator", "webhooks operator deliveries ID [--status S] | redeliver ID DELIVERY"},
	{"usage", "usage    --app ID | --account ID [--granularity G] [--from T] [--to T] [--csv]"},
	{"usage", "usage    reconcile --app ID [--granularity G] [--from T] [--to T]"},
}

// No line of the notes starts with two spaces and a dash: the README test
// reads such lines of `herald admin -h` as flags.
const adminUsageNotes = `
Lists take --limit N (1 to %d) and --cursor C (the next page's cursor
is printed on stderr). --set takes an app setting: integers, true|false,
and for allowed_origins a comma-separated list. Each plan limit is a flag
named as the limit with dashes (--max-messages-per-day N, 0 for
unlimited). Flags may follow the action; -h after a resource or an
action prints its own usage.
usage reads the last 24 hours by hour unless told (minute, hour, day or
month; times in RFC 3339). usage reconcile compares metered published
messages with the message stream and the history.

--url is the server's base URL (http://HOST:PORT), the API's own URL
(ending in /admin/v1) too.

Exit status: 0 on success; 1 when the API or the network failed, when
webhooks test finds the endpoint failing, and when usage reconcile finds
a period that differs; 2 for a mistake in the command line.

Flags:
`

const adminUsageHead = "Usage: herald admin [flags] <resource> <action> [arguments] [options]\n\n"

// adminFlagsHead introduces the global flags in a resource's or an
// action's help.
const adminFlagsHead = "\nFlags (before or after the action):\n"

// printAdminUsage writes the general usage and the global flags.
func printAdminUsage(w io.Writer) {
	fmt.Fprint(w, adminUsageHead)
	printSynopsis(w, "")
	fmt.Fprintf(w, adminUsageNotes, controlplane.MaxPageLimit)
	printGlobalFlags(w)
}

// printSynopsis writes the synopsis lines of resource and the resources
// under it; "" writes all.
func printSynopsis(w io.Writer, resource string) {
	for _, s := range adminSynopsis {
		if resource == "" || s.resource == resource || strings.HasPrefix(s.resource, resource+" ") {
			fmt.Fprintf(w, "  %s\n", s.line)
		}
	}
}

func printGlobalFlags(w io.Writer) {
	fs := flag.NewFlagSet("herald admin", flag.ContinueOnError)
	bindAdminGlobals(fs, &adminGlobals{})
	printFlags(w, fs)
}

// printFlags is flag.PrintDefaults with the flags written as the usage
// and the README write them, --name.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if kind != "" {
			fmt.Fprintf(w, " %s", kind)
		}
		fmt.Fprintf(w, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch {
		case f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0":
		case kind == "string":
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		default:
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// takeHelp removes -h and --help from args, up to a "--", and reports
// whether there was one, so that help is asked for anywhere on the line.
func takeHelp(args []string) ([]string, bool) {
	out := make([]string, 0, len(args))
	help := false
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...), help
		}
		switch a {
		case "-h", "--h", "-help", "--help":
			help = true
		default:
			out = append(out, a)
		}
	}
	return out, help
}

// adminHelp writes the help of the resource or action that words name,
// the general usage when they name nothing, and returns the exit code.
func adminHelp(words []string, stdout, stderr io.Writer) int {
	if len(words) == 0 {
		printAdminUsage(stdout)
		return 0
	}
	if name, _, cmd, ok := lookupAdminCommand(words); ok {
		printActionHelp(stdout, name, cmd)
		return 0
	}
	k := adminResourceWords(words)
	if k < len(words) {
		fmt.Fprintf(stderr, "herald admin: %v\n\n", unknownAdminCommand(words))
		printAdminUsage(stderr)
		return 2
	}
	resource := strings.Join(words, " ")
	fmt.Fprintf(stdout, "Usage: herald admin [flags] %s <action> [arguments] [options]\n\n", resource)
	printSynopsis(stdout, resource)
	fmt.Fprintf(stdout, "\nRun \"herald admin %s <action> -h\" for an action's options.\n", resource)
	fmt.Fprint(stdout, adminFlagsHead)
	printGlobalFlags(stdout)
	return 0
}

// printActionHelp writes an action's arguments, options and what its exit
// status says.
func printActionHelp(w io.Writer, name string, cmd adminCommand) {
	line := "herald admin [flags] " + name
	if len(cmd.args) > 0 {
		line += " " + strings.Join(cmd.args, " ")
	}
	if cmd.flags != nil {
		line += " [options]"
	}
	fmt.Fprintf(w, "Usage: %s\n", line)
	if cmd.note != "" {
		fmt.Fprintf(w, "\n%s\n", cmd.note)
	}
	if cmd.flags != nil {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		cmd.flags(fs, &adminOpts{})
		fmt.Fprint(w, "\nOptions:\n")
		printFlags(w, fs)
		if fs.Lookup("set") != nil {
			printSettingKeys(w)
		}
	}
	fmt.Fprint(w, adminFlagsHead)
	printGlobalFlags(w)
}

// printSettingKeys lists what --set takes.
func printSettingKeys(w io.Writer) {
	kinds := settingKinds()
	fmt.Fprint(w, "\nSettings (--set key=value):\n")
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		value := "comma-separated list"
		switch kinds[k] {
		case reflect.Bool:
			value = "true|false"
		case reflect.Int:
			value = "integer"
		}
		fmt.Fprintf(w, "  %s=%s\n", k, value)
	}
}

// lookupAdminCommand finds the command that args start with: the longest
// run of words naming one (so that "usage reconcile" wins over "usage").
// n is the number of words the name took.
func lookupAdminCommand(args []string) (name string, n int, cmd adminCommand, ok bool) {
	cmds := adminCommands()
	for n = min(len(args), maxAdminCommandWords); n > 0; n-- {
		name = strings.Join(args[:n], " ")
		if cmd, ok = cmds[name]; ok {
			return name, n, cmd, true
		}
	}
	return "", 0, adminCommand{}, false
}

// maxAdminCommandWords is the length of the longest command name
// ("webhooks operator list").
const maxAdminCommandWords = 3

// adminResourceWords returns how many words at the start of args name a
// resource: a run of words that starts a command name without being one.
func adminResourceWords(args []string) int {
	for k := min(len(args), maxAdminCommandWords-1); k > 0; k-- {
		if len(adminNextWords(args[:k])) > 0 {
			return k
		}
	}
	return 0
}

// adminNextWords returns the words that may follow the resource words in
// a command name, sorted.
func adminNextWords(words []string) []string {
	prefix := strings.Join(words, " ")
	if prefix != "" {
		prefix += " "
	}
	var next []string
	for name := range adminCommands() {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			word, _, _ := strings.Cut(rest, " ")
			if !slices.Contains(next, word) {
				next = append(next, word)
			}
		}
	}
	slices.Sort(next)
	return next
}

// unknownAdminCommand is the usage error of args that name no command: it
// names the first word that is wrong, and what could stand there.
func unknownAdminCommand(args []string) error {
	if len(args) == 0 {
		return usagef("missing command")
	}
	k := adminResourceWords(args)
	resource := strings.Join(args[:k], " ")
	next := strings.Join(adminNextWords(args[:k]), ", ")
	switch {
	case k == len(args):
		return usagef("%s needs an action (one of %s)", resource, next)
	case k == 0:
		return usagef("unknown resource %q (one of %s)", args[0], next)
	default:
		return usagef("unknown action %q of %s (one of %s)", args[k], resource, next)
	}
}
