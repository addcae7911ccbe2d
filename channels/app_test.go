package channels_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
)

func TestDefaultSettingsValid(t *testing.T) {
	if err := channels.DefaultSettings().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSettingsValidateNamesField(t *testing.T) {
	zero, neg, big := 0, -1, 1<<30
	cases := []struct {
		field string
		patch channels.SettingsPatch
	}{
		{"settings.max_message_bytes", channels.SettingsPatch{MaxMessageBytes: &zero}},
		{"settings.activity_timeout_s", channels.SettingsPatch{ActivityTimeoutS: &neg}},
		{"settings.max_presence_members", channels.SettingsPatch{MaxPresenceMembers: &big}},
		{"settings.allowed_origins[0]", channels.SettingsPatch{AllowedOrigins: &[]string{""}}},
		{"settings.allowed_origins[1]", channels.SettingsPatch{AllowedOrigins: &[]string{"https://a.example", "https://" + strings.Repeat("a", channels.MaxNameLen)}}},
	}
	for _, c := range cases {
		err := c.patch.Apply(channels.DefaultSettings()).Validate()
		var e *channels.Error
		if !errors.As(err, &e) || e.Field != c.field || e.Code != channels.CodeBadRequest {
			t.Errorf("%s: err = %#v", c.field, err)
		}
	}
}

func TestSettingsPatchKeepsOthers(t *testing.T) {
	on, n := true, 5
	s := channels.SettingsPatch{ClientEvents: &on, MaxConnections: &n}.Apply(channels.DefaultSettings())
	if !s.ClientEvents || s.MaxConnections != 5 || s.MaxMessageBytes != channels.DefaultMaxMessageBytes {
		t.Fatalf("patched settings = %+v", s)
	}
}

func TestValidateAppIDAndName(t *testing.T) {
	for id, ok := range map[string]bool{"app-id": true, "A_1": true, "": false, "a b": false, "a.b": false, strings.Repeat("a", 65): false} {
		if (channels.ValidateAppID(id) == nil) != ok {
			t.Errorf("ValidateAppID(%q)", id)
		}
	}
	if channels.ValidateName("name", "") == nil || channels.ValidateName("name", strings.Repeat("n", 201)) == nil || channels.ValidateName("name", "ok") != nil {
		t.Error("ValidateName wrong")
	}
	// Found by probing: plan names of only spaces were taken.
	for _, blank := range []string{" ", "   ", "  \t ", "\u00a0\u3000"} {
		if err := channels.ValidateName("name", blank); err == nil {
			t.Errorf("ValidateName(%q) took a blank name", blank)
		}
	}
	if channels.ValidateName("name", " a ") != nil {
		t.Error("ValidateName refused a name with spaces around a character")
	}
}

func TestDisposition(t *testing.T) {
	code, d := channels.DispositionOf(channels.NotFound("x"))
	if code != channels.CodeNotFound || d.HTTPStatus != 404 {
		t.Fatalf("%v %+v", code, d)
	}
	code, d = channels.DispositionOf(errors.New("boom"))
	if code != channels.CodeInternal || d.HTTPStatus != 500 {
		t.Fatalf("%v %+v", code, d)
	}
	if !errors.Is(channels.Conflict("dup"), channels.ErrConflict) || errors.Is(channels.Conflict("dup"), channels.ErrNotFound) {
		t.Fatal("errors.Is on codes wrong")
	}
}
