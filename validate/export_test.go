package validate

// Test hooks for the external test package.
var (
	IsDNSLabelForTest = isDNSLabel
	IsEnvKeyForTest   = isEnvKey
)

// BadCharForTest is badChar with the line mode as a bool.
func BadCharForTest(s string, multi bool) (rune, int, bool) { return badChar(s, lineMode(multi)) }

// HasPrefixFoldForTest is hasPrefixFold.
var HasPrefixFoldForTest = hasPrefixFold

// Hooks for the ports and probes.
var (
	IsPortNameForTest       = isPortName
	ProbePathProblemForTest = probePathProblem
	ElsewhereForTest        = elsewhere
)
