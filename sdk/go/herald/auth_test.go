package herald_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/heraldhq/herald/sdk/go/herald"
	"github.com/heraldhq/herald/sdk/go/internal/encrypted"
)

// Pusher's documented credentials, and the master key "This is a string
// that is 32 chr!". The expected values are what pusher-http-go v5
// answers for the same inputs.
const (
	vecKey    = "278d425bdf160c739803"
	vecSecret = "7ad3773142a6692b25b8"
)

var vecMasterKey = []byte("This is a string that is 32 chr!")

func vecClient(t *testing.T) *herald.Client {
	t.Helper()
	c, err := herald.New(herald.Config{AppID: "3", Key: vecKey, Secret: vecSecret, BaseURL: "http://127.0.0.1:1",
		EncryptionMasterKey: vecMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAuthorizeChannelMatchesPusher(t *testing.T) {
	c := vecClient(t)
	tests := []struct {
		name, channel string
		member        *herald.PresenceMember
		want          string
	}{
		{"private", "private-foobar", nil,
			`{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"}`},
		{"presence", "presence-foobar", &herald.PresenceMember{UserID: "10", UserInfo: map[string]string{"name": "Mr. Channels"}},
			`{"auth":"278d425bdf160c739803:4c6d8fc42a207ba96a0779844171b0bb819d96ffceef9609f5cce596ab17a800",` +
				`"channel_data":"{\"user_id\":\"10\",\"user_info\":{\"name\":\"Mr. Channels\"}}"}`},
		{"private-encrypted", "private-encrypted-foobar", nil,
			`{"auth":"278d425bdf160c739803:e6a18892d037c5d5e76a2265df4f086ffc38631605530dfd214aa5bff495f533",` +
				`"shared_secret":"pJ4vBuUXSHCFbhqZYxl5l+tcH2b1Dz9enig8HnovwS0="}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AuthorizeChannel("1234.1234", tt.channel, tt.member)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("AuthorizeChannel =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestAuthorizeChannelRefuses(t *testing.T) {
	c := vecClient(t)
	plain, err := herald.New(herald.Config{AppID: "3", Key: vecKey, Secret: vecSecret, BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		client   *herald.Client
		socketID string
		channel  string
		member   *herald.PresenceMember
		is       error
	}{
		{"bad socket id", c, "1234", "private-a", nil, herald.ErrSocketID},
		{"socket id with a newline", c, "1.2\n", "private-a", nil, herald.ErrSocketID},
		{"public channel", c, "1.2", "public", nil, nil},
		{"presence without member", c, "1.2", "presence-a", nil, nil},
		{"presence without user id", c, "1.2", "presence-a", &herald.PresenceMember{}, nil},
		{"encrypted without master key", plain, "1.2", "private-encrypted-a", nil, herald.ErrNoMasterKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.AuthorizeChannel(tt.socketID, tt.channel, tt.member)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("AuthorizeChannel = %v, want an error (%v)", err, tt.is)
			}
		})
	}
}

func TestAuthenticateUser(t *testing.T) {
	c := vecClient(t)
	got, err := c.AuthenticateUser("1234.1234", map[string]any{"id": "u1", "name": "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	// pusher-http-go v5's AuthenticateUser answer for the same input.
	want := `{"auth":"278d425bdf160c739803:9949b51043ec934ba2d549a5884473fd80532c9597e10b2691512809bb27bf9c","user_data":"{\"id\":\"u1\",\"name\":\"Ann\"}"}`
	if string(got) != want {
		t.Errorf("AuthenticateUser =\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []map[string]any{nil, {"name": "x"}, {"id": ""}, {"id": 1.5}, {"id": nil}} {
		if _, err := c.AuthenticateUser("1.2", bad); err == nil {
			t.Errorf("AuthenticateUser(%v) accepted", bad)
		}
	}
	if _, err := c.AuthenticateUser("1.2", map[string]any{"id": 7}); err != nil {
		t.Errorf("numeric id refused: %v", err)
	}
}

func TestEncryptedRoundTrip(t *testing.T) {
	const channel = "private-encrypted-room"
	key, err := encrypted.SharedSecret(channel, vecMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := encrypted.SealWithKey(key, []byte(`{"text":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	var shape struct{ Nonce, Ciphertext string }
	if err := json.Unmarshal([]byte(sealed), &shape); err != nil || shape.Nonce == "" || shape.Ciphertext == "" {
		t.Fatalf("sealed data %s is not {nonce, ciphertext}: %v", sealed, err)
	}
	c := vecClient(t)
	plain, err := c.DecryptData(channel, sealed)
	if err != nil || string(plain) != `{"text":"hi"}` {
		t.Fatalf("DecryptData = %q, %v", plain, err)
	}
	if _, err := c.DecryptData("private-encrypted-other", sealed); !errors.Is(err, encrypted.ErrDecrypt) {
		t.Fatalf("another channel's key opened the data: %v", err)
	}
	box, err := base64.StdEncoding.DecodeString(shape.Ciphertext)
	if err != nil {
		t.Fatal(err)
	}
	box[0] ^= 1
	tampered, _ := json.Marshal(map[string]string{"nonce": shape.Nonce, "ciphertext": base64.StdEncoding.EncodeToString(box)})
	if _, err := c.DecryptData(channel, string(tampered)); !errors.Is(err, encrypted.ErrDecrypt) {
		t.Fatalf("tampered data: %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	ok := herald.Config{AppID: "a", Key: "k", Secret: "s", BaseURL: "http://h"}
	tests := []struct {
		name   string
		change func(*herald.Config)
	}{
		{"no app id", func(c *herald.Config) { c.AppID = "" }},
		{"no key", func(c *herald.Config) { c.Key = "" }},
		{"no secret", func(c *herald.Config) { c.Secret = "" }},
		{"no base URL", func(c *herald.Config) { c.BaseURL = "" }},
		{"not http", func(c *herald.Config) { c.BaseURL = "ftp://h" }},
		{"short master key", func(c *herald.Config) { c.EncryptionMasterKey = []byte("short") }},
	}
	if _, err := herald.New(ok); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.change(&cfg)
			if _, err := herald.New(cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
