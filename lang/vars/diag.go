package vars

import (
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/muster-dev/muster/lang"
)

// convertRange turns an HCL range into a lang.Range, recounting columns in
// Unicode characters (HCL counts grapheme clusters) when src is given.
func convertRange(src []byte, r hcl.Range) lang.Range {
	return lang.Range{Filename: r.Filename, Start: convertPos(src, r.Start), End: convertPos(src, r.End)}
}

func convertPos(src []byte, p hcl.Pos) lang.Pos {
	out := lang.Pos{Line: p.Line, Column: p.Column, Byte: p.Byte}
	if src == nil || p.Byte < 0 || p.Byte > len(src) || p.Line == 0 {
		return out
	}
	start := p.Byte
	for start > 0 && src[start-1] != '\n' {
		start--
	}
	out.Column = utf8.RuneCount(src[start:p.Byte]) + 1
	return out
}

// convertDiags turns HCL diagnostics into lang diagnostics, joining summary
// and detail into one message.
func convertDiags(src []byte, hd hcl.Diagnostics) lang.Diagnostics {
	if len(hd) == 0 {
		return nil
	}
	out := make(lang.Diagnostics, 0, len(hd))
	for _, d := range hd {
		sev := lang.Error
		if d.Severity == hcl.DiagWarning {
			sev = lang.Warning
		}
		var r lang.Range
		if d.Subject != nil {
			r = convertRange(src, *d.Subject)
		}
		out = append(out, lang.Diagnostic{Severity: sev, Range: r, Message: message(d)})
	}
	return out
}

func message(d *hcl.Diagnostic) string {
	s := strings.TrimSuffix(d.Summary, ".")
	if d.Detail != "" {
		s += ": " + d.Detail
	}
	return s
}
