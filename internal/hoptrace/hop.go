package hoptrace

// Hop is one timed stretch of a message's way; see Names.
type Hop uint8

// The hops, in the order a message passes them.
const (
	// API is from the publish request's arrival in the API to just
	// before the JetStream publish: routing, authentication, decoding,
	// quota check.
	API Hop = iota
	// Store is the JetStream publish until its ack came back.
	Store
	// Republish is from JetStream's store time (Nats-Time-Stamp) to the
	// gateway's live shard picking the copy up.
	Republish
	// Fanout is from the live shard's pick-up to the end of the
	// broadcast to the channel's local subscribers.
	Fanout
	// EndToEndServer is from the request's arrival to the end of the
	// fan-out, on one host's clock.
	EndToEndServer
	numHops
)

// Names are the hops' label values, indexed by Hop.
var Names = [numHops]string{
	API:            "api",
	Store:          "store",
	Republish:      "republish",
	Fanout:         "fanout",
	EndToEndServer: "end_to_end_server",
}

// String returns the hop's label value.
func (h Hop) String() string {
	if h >= numHops {
		return "unknown"
	}
	return Names[h]
}

// Hops lists every hop, in order.
func Hops() []Hop {
	hops := make([]Hop, numHops)
	for i := range hops {
		hops[i] = Hop(i)
	}
	return hops
}
