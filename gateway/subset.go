package gateway

// subSetListMax is the most subscriptions a connection keeps in a list
// before it indexes them by name. Nearly every connection holds one to a
// few channels: a list of that size is scanned in a few nanoseconds and
// costs one pointer per subscription, where a map costs about 200 bytes
// of the ~1 KiB a subscribed idle connection holds (docs/performance.md,
// "Memory per connection").
const subSetListMax = 16

// subSet is a connection's subscriptions by channel name. The zero value
// is empty. It is guarded by the connection's mu.
type subSet struct {
	list []*subscription
	// byName replaces list once the connection holds more than
	// subSetListMax channels.
	byName map[string]*subscription
}

// get returns the subscription to the named channel, nil if none.
func (s *subSet) get(name string) *subscription {
	if s.byName != nil {
		return s.byName[name]
	}
	for _, sub := range s.list {
		if sub.ch.Name == name {
			return sub
		}
	}
	return nil
}

// len is how many channels the set holds.
func (s *subSet) len() int {
	if s.byName != nil {
		return len(s.byName)
	}
	return len(s.list)
}

// put adds sub, replacing a subscription to the same channel.
func (s *subSet) put(sub *subscription) {
	if s.byName != nil {
		s.byName[sub.ch.Name] = sub
		return
	}
	for i, old := range s.list {
		if old.ch.Name == sub.ch.Name {
			s.list[i] = sub
			return
		}
	}
	if len(s.list) < subSetListMax {
		s.list = append(s.list, sub)
		return
	}
	s.byName = make(map[string]*subscription, len(s.list)+1)
	for _, old := range s.list {
		s.byName[old.ch.Name] = old
	}
	s.byName[sub.ch.Name] = sub
	s.list = nil
}

// remove takes the named channel's subscription out of the set and
// returns it, nil if there was none.
func (s *subSet) remove(name string) *subscription {
	if s.byName != nil {
		sub := s.byName[name]
		delete(s.byName, name)
		return sub
	}
	for i, sub := range s.list {
		if sub.ch.Name == name {
			last := len(s.list) - 1
			s.list[i] = s.list[last]
			s.list[last] = nil
			s.list = s.list[:last]
			return sub
		}
	}
	return nil
}

// removeIf takes out every subscription drop reports true for and
// returns them, in no particular order.
func (s *subSet) removeIf(drop func(*subscription) bool) []*subscription {
	var dropped []*subscription
	for _, sub := range s.all() {
		if drop(sub) {
			dropped = append(dropped, sub)
		}
	}
	for _, sub := range dropped {
		s.remove(sub.ch.Name)
	}
	return dropped
}

// all returns the subscriptions in a slice of their own.
func (s *subSet) all() []*subscription {
	if s.byName == nil {
		return append([]*subscription(nil), s.list...)
	}
	out := make([]*subscription, 0, len(s.byName))
	for _, sub := range s.byName {
		out = append(out, sub)
	}
	return out
}

// take empties the set and returns what it held.
func (s *subSet) take() []*subscription {
	var out []*subscription
	if s.byName == nil {
		out = s.list
	} else {
		out = s.all()
	}
	*s = subSet{}
	return out
}
