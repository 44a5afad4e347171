package validate

// Test hooks for the external test package.
var (
	IsDNSLabelForTest = isDNSLabel
	IsEnvKeyForTest   = isEnvKey
)
