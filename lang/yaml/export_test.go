package yaml

// SetFast turns the fast path on or off for the external tests.
func SetFast(on bool) { useFast = on }
