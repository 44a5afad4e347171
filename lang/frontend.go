package lang

// Options carry what a frontend needs beyond the source: the variables of
// the formats that have them (HCL and CUE). YAML and JSON ignore them.
//
// Precedence, lowest first: Env, then VarFiles in order, then Vars.
type Options struct {
	// Env holds MUSTER_VAR_<name> environment values by name.
	Env map[string]string
	// VarFiles are --var-file paths in command-line order (.hcl, .yaml,
	// .yml or .json).
	VarFiles []string
	// Vars holds --var name=value values by name.
	Vars map[string]string
}

// A Parser turns one file into one Value (a Map) per job, in file order.
// It returns every job it could read together with every diagnostic, so that
// a file with errors still yields its good jobs and all its problems.
type Parser func(filename string, src []byte, opts Options) ([]*Value, Diagnostics)
