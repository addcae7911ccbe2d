package directget

import "github.com/nats-io/nats.go"

// Headers the server puts on stored messages as Direct Get returns them,
// and on the status messages that end an answer. nats.go does not export
// all of them; these spellings are the server's, and nats.go keeps header
// names as they are sent.
const (
	HeaderSequence     = "Nats-Sequence"
	HeaderSubject      = "Nats-Subject"
	HeaderLastSequence = "Nats-Last-Sequence"
	HeaderTimeStamp    = "Nats-Time-Stamp"
	HeaderNumPending   = "Nats-Num-Pending"
	HeaderStatus       = "Status"
	HeaderDescription  = "Description"
)

// Statuses of the message that ends an answer, and of "no responders".
const (
	StatusEndOfBatch   = "204"
	StatusNotFound     = "404"
	StatusNoResponders = "503"
)

// Headers and operations the KV layer puts on stored KV messages: a
// delete or purge is a message with KV-Operation set and no body.
const (
	HeaderKVOperation = "KV-Operation"
	KVOpDelete        = "DEL"
	KVOpPurge         = "PURGE"
)

// First is h.Get without canonicalizing key: the server writes the names
// above exactly, and reads on the resume path avoid the extra work.
func First(h nats.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Status returns the status of m when m is a status message (a status
// header and no body), "" for a stored message.
func Status(m *nats.Msg) string {
	if len(m.Data) != 0 {
		return ""
	}
	return First(m.Header, HeaderStatus)
}
