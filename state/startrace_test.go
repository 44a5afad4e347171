package state

import (
	"sync"
	"testing"
)

// TestControlPlanesStartTogether: two control planes open the state of a
// new three-server cluster at once. Both race to create every stream;
// neither may wait on the other (the loser's update of the events stream
// once went unanswered and both control planes exited).
func TestControlPlanesStartTogether(t *testing.T) {
	c := startCluster(t, 3)
	c.waitReady(t)
	stores := []*Store{connectT(t, c.urls()), connectT(t, c.urls())}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.UseReplicas(ctxT(t), 0)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("control plane %d: %v", i+1, err)
		}
	}
}
