package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/cmd/herald/internal/adminclient"
	"github.com/heraldhq/herald/cmd/herald/internal/config"
	"github.com/heraldhq/herald/internal/platform"
)

// Defaults of `herald admin`.
const (
	defaultAdminURL  = "http://" + platform.DefaultAddr
	adminHTTPTimeout = 30 * time.Second
)

// No line below starts with two spaces and a dash: the README test reads
// such lines as flags.
const adminUsage = `Usage: herald admin [flags] <resource> <action> [arguments] [options]

  accounts list | get ID | delete ID | create --name N
  accounts set-plan --account ID [--plan ID]   (no plan: unlimited)
  plans    list | get ID | delete ID
  plans    create --name N --enforcement hard|soft [--id ID] [--LIMIT N ...]
  plans    update ID [--name N] [--enforcement E] [--LIMIT N ...]
  apps     list [--account ID] [--search TEXT] | get ID | delete ID
  apps     create --account ID --name N [--id ID] [--set key=value ...]
  apps     update ID [--name N] [--enabled true|false] [--set key=value ...]
  keys     list APP | create APP | revoke APP KEY
  tokens   list | create --name N | revoke ID
  signing-keys  list | rotate | retire KID
  audit    list
  webhooks list APP | get APP ID | delete APP ID | test APP ID
  webhooks create APP URL [--events a,b] [--batch true|false] [--enabled true|false]
           [--channel-filter P] [--header Name=value ...]
  webhooks update APP ID [--endpoint URL] [the options of create]
  webhooks deliveries APP ID [--status pending|delivered|failed]
  webhooks redeliver APP ID DELIVERY
  webhooks operator list | get ID | remove ID | test ID
  webhooks operator add URL [--events quota_warning,quota_exceeded] [--enabled true|false]
           [--header Name=value ...]   (prints the signing secret, once)
  webhooks operator update ID [--endpoint URL] [the options of add]
  webhooks operator deliveries ID [--status S] | redeliver ID DELIVERY
  usage    --app ID | --account ID [--granularity G] [--from T] [--to T] [--csv]
  usage    reconcile --app ID [--granularity G] [--from T] [--to T]

Lists take --limit N and --cursor C (the next page's cursor is printed on
stderr). --set takes an app setting: integers, true|false, and for
allowed_origins a comma-separated list. Each plan limit is a flag named
as the limit with dashes (--max-messages-per-day N, 0 for unlimited).
Flags may follow the action.
usage reads the last 24 hours by hour unless told (minute, hour, day or
month; times in RFC 3339). usage reconcile compares metered published
messages with the message stream and the history, and exits 1 when any
period differs.

Flags:
`

// adminGlobals are the flags of every `herald admin` command.
type adminGlobals struct {
	url     string
	token   string
	dataDir string
	json    bool
}

func bindAdminGlobals(fs *flag.FlagSet, g *adminGlobals) {
	fs.StringVar(&g.url, "url", "", "base URL of the Herald admin API (default: the one herald dev wrote in --data-dir, else "+defaultAdminURL+")")
	fs.StringVar(&g.token, "admin-token", "", "admin API token: the bootstrap token or one made with 'herald admin tokens create' (default: herald dev's, from --data-dir)")
	fs.StringVar(&g.dataDir, "data-dir", platform.DefaultDataDir, "herald dev's data folder, read for the URL and admin token that --url and --admin-token do not give")
	fs.BoolVar(&g.json, "json", false, "print JSON as the API answers it instead of a table")
}

// adminOpts are the options of the actions; each action declares the ones
// it takes.
type adminOpts struct {
	name, account, id, cursor, search string
	limit                             int
	enabled                           optionalBool
	set                               settingsFlag
	usage                             usageOpts
	plan                              planOpts
	webhook                           webhookOpts
}

// adminCall is one action being run.
type adminCall struct {
	client *adminclient.Client
	args   []string
	opts   adminOpts
	json   bool
	stdout io.Writer
	stderr io.Writer
}

// adminCommand is one "<resource> <action>".
type adminCommand struct {
	args  []string // names of the positional arguments
	flags func(fs *flag.FlagSet, o *adminOpts)
	run   func(ctx context.Context, c *adminCall) error
}

func nameFlag(fs *flag.FlagSet, o *adminOpts) { fs.StringVar(&o.name, "name", "", "name") }

func pageFlags(fs *flag.FlagSet, o *adminOpts) {
	fs.IntVar(&o.limit, "limit", 0, "page size (default: the server's)")
	fs.StringVar(&o.cursor, "cursor", "", "cursor of the page to list")
}

func appListFlags(fs *flag.FlagSet, o *adminOpts) {
	pageFlags(fs, o)
	fs.StringVar(&o.account, "account", "", "only the apps of this account id")
	fs.StringVar(&o.search, "search", "", "only the apps whose name or id contains this text, ignoring case")
}

func appCreateFlags(fs *flag.FlagSet, o *adminOpts) {
	nameFlag(fs, o)
	fs.StringVar(&o.account, "account", "", "account id")
	fs.StringVar(&o.id, "id", "", "app id (generated when empty)")
	fs.Var(&o.set, "set", "setting key=value (repeatable)")
}

func appUpdateFlags(fs *flag.FlagSet, o *adminOpts) {
	nameFlag(fs, o)
	fs.Var(&o.enabled, "enabled", "true or false")
	fs.Var(&o.set, "set", "setting key=value (repeatable)")
}

// adminCommands is the table of `herald admin` actions.
func adminCommands() map[string]adminCommand {
	return map[string]adminCommand{
		"accounts list":     {flags: pageFlags, run: adminListAccounts},
		"accounts get":      {args: []string{"ID"}, run: adminGetAccount},
		"accounts create":   {flags: nameFlag, run: adminCreateAccount},
		"accounts delete":   {args: []string{"ID"}, run: adminDeleteAccount},
		"accounts set-plan": {flags: setPlanFlags, run: adminSetAccountPlan},
		"plans list":        {flags: pageFlags, run: adminListPlans},
		"plans get":         {args: []string{"ID"}, run: adminGetPlan},
		"plans create":      {flags: planCreateFlags, run: adminCreatePlan},
		"plans update":      {args: []string{"ID"}, flags: planFlags, run: adminUpdatePlan},
		"plans delete":      {args: []string{"ID"}, run: adminDeletePlan},
		"apps list":         {flags: appListFlags, run: adminListApps},
		"apps get":          {args: []string{"ID"}, run: adminGetApp},
		"apps create":       {flags: appCreateFlags, run: adminCreateApp},
		"apps update":       {args: []string{"ID"}, flags: appUpdateFlags, run: adminUpdateApp},
		"apps delete":       {args: []string{"ID"}, run: adminDeleteApp},
		"keys list":         {args: []string{"APP"}, flags: pageFlags, run: adminListKeys},
		"keys create":       {args: []string{"APP"}, run: adminCreateKey},
		"keys revoke":       {args: []string{"APP", "KEY"}, run: adminRevokeKey},
		"tokens list":       {flags: pageFlags, run: adminListTokens},
		"tokens create":     {flags: nameFlag, run: adminCreateToken},
		"tokens revoke":     {args: []string{"ID"}, run: adminRevokeToken},
		"audit list":        {flags: pageFlags, run: adminListAudit},

		"signing-keys list":   {flags: pageFlags, run: adminListSigningKeys},
		"signing-keys rotate": {run: adminRotateSigningKey},
		"signing-keys retire": {args: []string{"KID"}, run: adminRetireSigningKey},

		"webhooks list":       {args: []string{"APP"}, flags: pageFlags, run: adminListWebhooks},
		"webhooks create":     {args: []string{"APP", "URL"}, flags: webhookFlags, run: adminCreateWebhook},
		"webhooks get":        {args: []string{"APP", "ID"}, run: adminGetWebhook},
		"webhooks update":     {args: []string{"APP", "ID"}, flags: webhookFlags, run: adminUpdateWebhook},
		"webhooks delete":     {args: []string{"APP", "ID"}, run: adminDeleteWebhook},
		"webhooks deliveries": {args: []string{"APP", "ID"}, flags: webhookDeliveryFlags, run: adminListWebhookDeliveries},
		"webhooks redeliver":  {args: []string{"APP", "ID", "DELIVERY"}, run: adminRedeliverWebhook},
		"webhooks test":       {args: []string{"APP", "ID"}, run: adminTestWebhook},

		"webhooks operator list":       {flags: pageFlags, run: adminListOperatorWebhooks},
		"webhooks operator add":        {args: []string{"URL"}, flags: operatorWebhookFlags, run: adminAddOperatorWebhook},
		"webhooks operator get":        {args: []string{"ID"}, run: adminGetOperatorWebhook},
		"webhooks operator update":     {args: []string{"ID"}, flags: operatorWebhookFlags, run: adminUpdateOperatorWebhook},
		"webhooks operator remove":     {args: []string{"ID"}, run: adminRemoveOperatorWebhook},
		"webhooks operator deliveries": {args: []string{"ID"}, flags: webhookDeliveryFlags, run: adminListOperatorWebhookDeliveries},
		"webhooks operator redeliver":  {args: []string{"ID", "DELIVERY"}, run: adminRedeliverOperatorWebhook},
		"webhooks operator test":       {args: []string{"ID"}, run: adminTestOperatorWebhook},

		"usage":           {flags: usageFlags, run: adminUsageReport},
		"usage reconcile": {flags: usageFlags, run: adminUsageReconcile},
	}
}

// adminUsageError is a mistake in the command line (exit 2).
type adminUsageError struct{ msg string }

func (e *adminUsageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &adminUsageError{msg: fmt.Sprintf(format, args...)}
}

// runAdmin runs `herald admin …` and returns the exit code: 0, 1 when the
// API or the network failed, 2 for a usage error.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herald admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage); fs.PrintDefaults() }
	var g adminGlobals
	bindAdminGlobals(fs, &g)
	if err := config.Parse(fs, args, getenv); err != nil {
		return usageError(err)
	}
	call, cmd, err := parseAdminAction(fs.Args(), &g)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return 0
	}
	var target adminTarget
	if err == nil {
		target, err = resolveAdminTarget(g)
	}
	if err != nil {
		fmt.Fprintf(stderr, "herald admin: %v\n\n", err)
		fs.Usage()
		return 2
	}
	if target.note != "" {
		fmt.Fprintf(stderr, "herald admin: %s\n", target.note)
	}
	call.client = adminclient.New(target.url, target.token, &http.Client{Timeout: adminHTTPTimeout})
	call.json, call.stdout, call.stderr = g.json, stdout, stderr
	if err := cmd.run(ctx, call); err != nil {
		if ue := (*adminUsageError)(nil); errors.As(err, &ue) {
			fmt.Fprintf(stderr, "herald admin: %v\n\n", err)
			fs.Usage()
			return 2
		}
		fmt.Fprintf(stderr, "herald admin: %v\n", target.explainConnError(err))
		return 1
	}
	return 0
}

// parseAdminAction finds the action in args and parses its arguments and
// options; the global flags may be repeated after the action.
func parseAdminAction(args []string, g *adminGlobals) (*adminCall, adminCommand, error) {
	if len(args) == 0 {
		return nil, adminCommand{}, usagef("missing command")
	}
	if args[0] == "help" {
		return nil, adminCommand{}, flag.ErrHelp
	}
	name, rest := args[0], args[1:]
	cmd, ok := adminCommands()[name]
	// A resource of a resource (webhooks operator) takes its action third.
	if len(args) >= 3 {
		if c, found := adminCommands()[strings.Join(args[:3], " ")]; found {
			return parseAdminArgs(strings.Join(args[:3], " "), args[3:], c, g)
		}
	}
	// A resource that is a command by itself (usage) takes an action
	// only when one of its own follows.
	if len(args) >= 2 {
		if c, found := adminCommands()[name+" "+args[1]]; found || !ok {
			name, rest, cmd, ok = name+" "+args[1], args[2:], c, found
		}
	} else if !ok {
		return nil, adminCommand{}, usagef("%q needs an action", args[0])
	}
	if !ok {
		return nil, adminCommand{}, usagef("unknown command %q", name)
	}
	return parseAdminArgs(name, rest, cmd, g)
}

// parseAdminArgs parses the arguments and options of the command name.
func parseAdminArgs(name string, rest []string, cmd adminCommand, g *adminGlobals) (*adminCall, adminCommand, error) {
	call := &adminCall{}
	fs := flag.NewFlagSet("herald admin "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// Declaring a flag sets it to its default: keep what the command line
	// and the environment gave the global flags.
	given := *g
	bindAdminGlobals(fs, g)
	*g = given
	if cmd.flags != nil {
		cmd.flags(fs, &call.opts)
	}
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, adminCommand{}, err
		}
		return nil, adminCommand{}, usagef("%s: %v", name, err)
	}
	if len(pos) != len(cmd.args) {
		return nil, adminCommand{}, usagef("%s takes %s", name, orNone(strings.Join(cmd.args, " ")))
	}
	call.args = pos
	return call, cmd, nil
}

func orNone(s string) string {
	if s == "" {
		return "no arguments"
	}
	return s
}

// parseInterleaved parses flags anywhere among the positional arguments,
// as in `apps get ID --json`; everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, tail...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// required returns a usage error unless value is set.
func required(flagName, value string) error {
	if value == "" {
		return usagef("--%s is required", flagName)
	}
	return nil
}

// settingsFlag collects --set key=value into a channels.SettingsPatch,
// converting each value by the type of the setting.
type settingsFlag struct {
	values map[string]any
}

func (s *settingsFlag) String() string { return "" }

func (s *settingsFlag) Set(kv string) error {
	key, raw, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("want key=value, got %q", kv)
	}
	kind, known := settingKinds()[key]
	if !known {
		return fmt.Errorf("unknown setting %q (one of %s)", key, strings.Join(slices.Sorted(maps.Keys(settingKinds())), ", "))
	}
	var v any
	switch kind {
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%s: want true or false, got %q", key, raw)
		}
		v = b
	case reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%s: want an integer, got %q", key, raw)
		}
		v = n
	default: // a list
		list := []string{}
		for _, item := range strings.Split(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v = list
	}
	if s.values == nil {
		s.values = map[string]any{}
	}
	s.values[key] = v
	return nil
}

// patch returns the settings given, or nil when there are none.
func (s *settingsFlag) patch() (*channels.SettingsPatch, error) {
	if len(s.values) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(s.values)
	if err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	var p channels.SettingsPatch
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	return &p, nil
}

// settingKinds maps each setting's JSON name to the kind of its value, read
// from channels.Settings so that new settings need no change here.
func settingKinds() map[string]reflect.Kind {
	t := reflect.TypeFor[channels.Settings]()
	kinds := map[string]reflect.Kind{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		kinds[name] = f.Type.Kind()
	}
	return kinds
}

// printJSON writes v indented, as the --json output.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printTable writes rows under a header, aligned.
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// output prints v as JSON with --json and as the table otherwise; a list's
// next cursor goes to stderr so that stdout stays a clean table.
func (c *adminCall) output(v any, header []string, rows [][]string, next string) error {
	if c.json {
		return printJSON(c.stdout, v)
	}
	if err := printTable(c.stdout, header, rows); err != nil {
		return err
	}
	if next != "" {
		fmt.Fprintf(c.stderr, "more: --cursor %s\n", next)
	}
	return nil
}

// done reports a change that answers no body.
func (c *adminCall) done(format string, args ...any) error {
	if c.json {
		return nil
	}
	_, err := fmt.Fprintf(c.stdout, format+"\n", args...)
	return err
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return fmtTime(*t)
}
