package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/cmd/herald/internal/adminclient"
	"github.com/heraldhq/herald/controlplane"
)

// planOpts are the options of the plan actions and of accounts set-plan.
type planOpts struct {
	enforcement optionalString
	name        optionalString
	plan        string
	limits      map[string]int64
}

// limitNames are the JSON names of billing.Limits, read from the type so
// that a new limit gets its flag without a change here.
func limitNames() []string {
	t := reflect.TypeFor[billing.Limits]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}

// limitFlag sets one limit, by its JSON name, in a planOpts.
type limitFlag struct {
	o    *planOpts
	name string
}

func (l limitFlag) String() string { return "" }

func (l limitFlag) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want an integer (0 for unlimited), got %q", s)
	}
	if l.o.limits == nil {
		l.o.limits = map[string]int64{}
	}
	l.o.limits[l.name] = n
	return nil
}

// planFlags declares --name, --enforcement and one flag per limit, named
// as the limit with dashes (--max-messages-per-day).
func planFlags(fs *flag.FlagSet, o *adminOpts) {
	fs.Var(&o.plan.name, "name", "plan name")
	fs.Var(&o.plan.enforcement, "enforcement", "`hard|soft`: hard refuses what is over a quota, soft records it")
	for _, name := range limitNames() {
		fs.Var(limitFlag{o: &o.plan, name: name}, strings.ReplaceAll(name, "_", "-"), "limit "+name+" to `N` (0: unlimited)")
	}
}

func planCreateFlags(fs *flag.FlagSet, o *adminOpts) {
	planFlags(fs, o)
	fs.StringVar(&o.id, "id", "", "plan id (generated when empty)")
}

func setPlanFlags(fs *flag.FlagSet, o *adminOpts) {
	fs.StringVar(&o.account, "account", "", "account id")
	fs.StringVar(&o.plan.plan, "plan", "", "plan id (empty: take the account off its plan)")
}

// limitsPatch returns the limits given, or nil when there are none.
func (o *planOpts) limitsPatch() (*billing.LimitsPatch, error) {
	if len(o.limits) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(o.limits)
	if err != nil {
		return nil, fmt.Errorf("encode limits: %w", err)
	}
	var p billing.LimitsPatch
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("encode limits: %w", err)
	}
	return &p, nil
}

func planRow(p billing.Plan) []string {
	return []string{p.ID, p.Name, string(p.Enforcement), fmtTime(p.CreatedAt)}
}

// printPlan shows one plan as FIELD VALUE lines, its limits included.
func (c *adminCall) printPlan(p billing.Plan) error {
	rows := [][]string{
		{"id", p.ID}, {"name", p.Name}, {"enforcement", string(p.Enforcement)},
		{"created_at", fmtTime(p.CreatedAt)}, {"updated_at", fmtTime(p.UpdatedAt)},
	}
	b, err := json.Marshal(p.Limits)
	if err != nil {
		return fmt.Errorf("encode limits: %w", err)
	}
	var limits map[string]int64
	if err := json.Unmarshal(b, &limits); err != nil {
		return fmt.Errorf("encode limits: %w", err)
	}
	for _, k := range slices.Sorted(maps.Keys(limits)) {
		v := strconv.FormatInt(limits[k], 10)
		if limits[k] == 0 {
			v = "unlimited"
		}
		rows = append(rows, []string{"limits." + k, v})
	}
	return c.output(p, []string{"FIELD", "VALUE"}, rows, "")
}

func adminListPlans(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListPlans(ctx, c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(page.Items))
	for _, p := range page.Items {
		rows = append(rows, planRow(p))
	}
	return c.output(page, []string{"ID", "NAME", "ENFORCEMENT", "CREATED"}, rows, page.NextCursor)
}

func adminGetPlan(ctx context.Context, c *adminCall) error {
	p, err := c.client.GetPlan(ctx, c.args[0])
	if err != nil {
		return err
	}
	return c.printPlan(p)
}

func adminCreatePlan(ctx context.Context, c *adminCall) error {
	o := &c.opts.plan
	for _, r := range [][2]string{{"name", o.name.value}, {"enforcement", o.enforcement.value}} {
		if err := required(r[0], r[1]); err != nil {
			return err
		}
	}
	limits, err := o.limitsPatch()
	if err != nil {
		return err
	}
	p, err := c.client.CreatePlan(ctx, adminclient.NewPlan{ID: c.opts.id, Name: o.name.value,
		Enforcement: channels.Enforcement(o.enforcement.value), Limits: limits})
	if err != nil {
		return err
	}
	return c.printPlan(p)
}

func adminUpdatePlan(ctx context.Context, c *adminCall) error {
	o := &c.opts.plan
	limits, err := o.limitsPatch()
	if err != nil {
		return err
	}
	patch := adminclient.PlanPatch{Name: o.name.ptr(), Limits: limits}
	if e := o.enforcement.ptr(); e != nil {
		enf := channels.Enforcement(*e)
		patch.Enforcement = &enf
	}
	p, err := c.client.UpdatePlan(ctx, c.args[0], patch)
	if err != nil {
		return err
	}
	return c.printPlan(p)
}

func adminDeletePlan(ctx context.Context, c *adminCall) error {
	if err := c.client.DeletePlan(ctx, c.args[0]); err != nil {
		return err
	}
	return c.done("deleted plan %s", c.args[0])
}

func adminSetAccountPlan(ctx context.Context, c *adminCall) error {
	if err := required("account", c.opts.account); err != nil {
		return err
	}
	a, err := c.client.SetAccountPlan(ctx, c.opts.account, c.opts.plan.plan)
	if err != nil {
		return err
	}
	return c.output(a, accountHeader, [][]string{accountRow(a)}, "")
}

var accountHeader = []string{"ID", "NAME", "PLAN", "CREATED"}

func accountRow(a controlplane.Account) []string {
	plan := "-"
	if a.PlanID != nil {
		plan = *a.PlanID
	}
	return []string{a.ID, a.Name, plan, fmtTime(a.CreatedAt)}
}
