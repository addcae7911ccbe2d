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
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/platform"
)

// Defaults of `herald admin`.
const (
	defaultAdminURL  = "http://" + platform.DefaultAddr
	adminHTTPTimeout = 30 * time.Second
)

// adminGlobals are the flags of every `herald admin` command.
type adminGlobals struct {
	url     string
	token   string
	dataDir string
	json    bool
}

func bindAdminGlobals(fs *flag.FlagSet, g *adminGlobals) {
	fs.StringVar(&g.url, "url", "", "the Herald server's base URL, http(s)://HOST:PORT; a trailing "+adminAPIPath+" is dropped (default: the one herald dev wrote in --data-dir, else "+defaultAdminURL+")")
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
	// note, when set, ends the action's help: what its exit status says.
	note string
}

// Notes of the actions whose exit status says more than success.
const (
	webhookTestNote = "Exits 1 when the endpoint failed the test (OK false: no answer, or not a 2xx)."
	reconcileNote   = "Exits 1 when any period differs."
)

func nameFlag(fs *flag.FlagSet, o *adminOpts) { fs.StringVar(&o.name, "name", "", "name") }

// pageLimitFlag is --limit: a page size the API accepts; left at 0 when
// not given, for the server's default.
type pageLimitFlag struct{ n *int }

func (l pageLimitFlag) String() string {
	if l.n == nil || *l.n == 0 {
		return ""
	}
	return strconv.Itoa(*l.n)
}

func (l pageLimitFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > controlplane.MaxPageLimit {
		return fmt.Errorf("want an integer from 1 to %d", controlplane.MaxPageLimit)
	}
	*l.n = n
	return nil
}

func pageFlags(fs *flag.FlagSet, o *adminOpts) {
	fs.Var(pageLimitFlag{&o.limit}, "limit", fmt.Sprintf("page size `N`, 1 to %d (default: the server's, %d)", controlplane.MaxPageLimit, controlplane.DefaultPageLimit))
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
	fs.Var(&o.set, "set", "an app setting, `key=value` (repeatable)")
}

func appUpdateFlags(fs *flag.FlagSet, o *adminOpts) {
	nameFlag(fs, o)
	fs.Var(&o.enabled, "enabled", "whether it is enabled, `true|false`")
	fs.Var(&o.set, "set", "an app setting, `key=value` (repeatable)")
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
		"webhooks test":       {args: []string{"APP", "ID"}, run: adminTestWebhook, note: webhookTestNote},

		"webhooks operator list":       {flags: pageFlags, run: adminListOperatorWebhooks},
		"webhooks operator add":        {args: []string{"URL"}, flags: operatorWebhookFlags, run: adminAddOperatorWebhook},
		"webhooks operator get":        {args: []string{"ID"}, run: adminGetOperatorWebhook},
		"webhooks operator update":     {args: []string{"ID"}, flags: operatorWebhookFlags, run: adminUpdateOperatorWebhook},
		"webhooks operator remove":     {args: []string{"ID"}, run: adminRemoveOperatorWebhook},
		"webhooks operator deliveries": {args: []string{"ID"}, flags: webhookDeliveryFlags, run: adminListOperatorWebhookDeliveries},
		"webhooks operator redeliver":  {args: []string{"ID", "DELIVERY"}, run: adminRedeliverOperatorWebhook},
		"webhooks operator test":       {args: []string{"ID"}, run: adminTestOperatorWebhook, note: webhookTestNote},

		"usage":           {flags: usageFlags, run: adminUsageReport},
		"usage reconcile": {flags: usageFlags, run: adminUsageReconcile, note: reconcileNote},
	}
}

// adminUsageError is a mistake in the command line (exit 2).
type adminUsageError struct{ msg string }

func (e *adminUsageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &adminUsageError{msg: fmt.Sprintf(format, args...)}
}

// runAdmin runs `herald admin …` and returns the exit code: 0, 1 when the
// API or the network failed, 2 for a usage error. Help, asked for with -h
// anywhere or "help" first, is that of the resource or action named.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herald admin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var g adminGlobals
	bindAdminGlobals(fs, &g)
	args, help := takeHelp(args)
	err := config.Parse(fs, args, getenv)
	if errors.Is(err, flag.ErrHelp) { // -h=true
		help, err = true, nil
	}
	if err != nil {
		return adminUsageFailed(stderr, err)
	}
	words := fs.Args()
	if len(words) > 0 && words[0] == "help" {
		words, help = words[1:], true
	}
	if help {
		return adminHelp(words, stdout, stderr)
	}
	call, cmd, err := parseAdminAction(words, &g)
	var target adminTarget
	if err == nil {
		target, err = resolveAdminTarget(g)
	}
	if err != nil {
		return adminUsageFailed(stderr, err)
	}
	if target.note != "" {
		fmt.Fprintf(stderr, "herald admin: %s\n", target.note)
	}
	call.client = adminclient.New(target.url, target.token, &http.Client{Timeout: adminHTTPTimeout})
	call.json, call.stdout, call.stderr = g.json, stdout, stderr
	if err := cmd.run(ctx, call); err != nil {
		if ue := (*adminUsageError)(nil); errors.As(err, &ue) {
			return adminUsageFailed(stderr, err)
		}
		fmt.Fprintf(stderr, "herald admin: %v\n", target.explain(err))
		return 1
	}
	return 0
}

// adminUsageFailed reports a mistake in the command line with the usage,
// and returns its exit code.
func adminUsageFailed(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "herald admin: %v\n\n", err)
	printAdminUsage(stderr)
	return 2
}

// parseAdminAction finds the action in args and parses its arguments and
// options; the global flags may be repeated after the action.
func parseAdminAction(args []string, g *adminGlobals) (*adminCall, adminCommand, error) {
	name, n, cmd, ok := lookupAdminCommand(args)
	if !ok {
		return nil, adminCommand{}, unknownAdminCommand(args)
	}
	return parseAdminArgs(name, args[n:], cmd, g)
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
