package main

import (
	"fmt"
	"strconv"
)

// optionalString is a string flag that records whether it was given.
type optionalString struct {
	set   bool
	value string
}

func (s *optionalString) String() string { return s.value }

func (s *optionalString) Set(v string) error {
	s.set, s.value = true, v
	return nil
}

func (s *optionalString) ptr() *string {
	if !s.set {
		return nil
	}
	v := s.value
	return &v
}

// optionalBool is a flag that records whether it was given.
type optionalBool struct {
	set, value bool
}

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) ptr() *bool {
	if !b.set {
		return nil
	}
	v := b.value
	return &v
}
