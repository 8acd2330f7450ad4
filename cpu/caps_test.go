package cpu

import "testing"

// TestCapabilities: on the pinned archive every wrapper proves itself.
func TestCapabilities(t *testing.T) {
	c := Capabilities()
	t.Logf("capabilities: %v", c)
	if !c.NoAccessCheck || !c.InlineBlockCheck || !c.Parallel || len(c.Failures) > 0 {
		t.Fatalf("self-test failed on the pinned Unicorn: %v", c)
	}
}
