package validate

import (
	"strings"

	"github.com/muster-dev/muster/lang"
)

// redact replaces, in every message, the text of values marked Sensitive
// (they come from sensitive HCL variables), whichever check quoted them.
func redact(v *lang.Value, diags lang.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	var secrets []string
	var walk func(v *lang.Value, sensitive bool)
	walk = func(v *lang.Value, sensitive bool) {
		if v == nil {
			return
		}
		sensitive = sensitive || v.Sensitive
		switch v.Kind {
		case lang.String:
			if sensitive && v.Str != "" {
				secrets = append(secrets, v.Str)
			}
		case lang.Number:
			if sensitive {
				secrets = append(secrets, v.Number)
			}
		case lang.List:
			for _, e := range v.List {
				walk(e, sensitive)
			}
		case lang.Map:
			for _, f := range v.Fields {
				if sensitive && f.Key != "" {
					secrets = append(secrets, f.Key)
				}
				walk(f.Value, sensitive)
			}
		}
	}
	walk(v, false)
	if len(secrets) == 0 {
		return
	}
	for i := range diags {
		for _, s := range secrets {
			diags[i].Message = strings.ReplaceAll(diags[i].Message, s, "(sensitive value)")
			diags[i].Path = strings.ReplaceAll(diags[i].Path, s, "(sensitive)")
		}
	}
}
