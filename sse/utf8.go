package sse

import "unicode/utf8"

// decodeString returns b as a freshly allocated string, with each maximal
// subpart of an ill-formed UTF-8 sequence replaced by one U+FFFD, as the
// UTF-8 decoder of the WHATWG Encoding standard (and so every browser)
// does. Go's own conversions differ: []rune and range give one U+FFFD per
// byte ("\xE2\x82" is two, the browser's one) and strings.ToValidUTF8 one
// per run of bytes ("\xFF\xFF" is one, the browser's two).
func decodeString(b []byte) string {
	s, _ := decodeStringBuf(b, nil)
	return s
}

// decodeStringBuf is decodeString using scratch, and returning it grown,
// for the replacement of ill-formed input: one allocation (the string)
// either way.
func decodeStringBuf(b, scratch []byte) (string, []byte) {
	if utf8.Valid(b) {
		return string(b), scratch
	}
	scratch = appendUTF8(scratch[:0], b)
	return string(scratch), scratch
}

// appendUTF8 appends p to dst, replacing each maximal subpart of an
// ill-formed sequence with U+FFFD.
func appendUTF8(dst, p []byte) []byte {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if r, n := utf8.DecodeRune(p[i:]); r != utf8.RuneError || n > 1 {
			// Go accepts exactly the sequences the Encoding standard
			// accepts (no overlongs, surrogates or values past U+10FFFF).
			dst = append(dst, p[i:i+n]...)
			i += n
			continue
		}
		dst = append(dst, "\uFFFD"...)
		i += maximalSubpart(p[i:])
	}
	return dst
}

// maximalSubpart returns the length of the ill-formed sequence at the start
// of p that one U+FFFD replaces: a lone byte that cannot start a sequence,
// or a lead byte and the continuation bytes that still fit it, up to the
// first byte that does not (which the decoder then reads afresh). The
// ranges are those of the Encoding standard's UTF-8 decoder (E0 needs
// A0–BF next, ED 80–9F, F0 90–BF, F4 80–8F, others 80–BF). p must start
// with a sequence utf8.DecodeRune rejects.
func maximalSubpart(p []byte) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := p[0]; {
	case 0xC2 <= c && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case 0xE1 <= c && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case 0xF1 <= c && c <= 0xF3:
		need = 3
	default: // 80–C1, F5–FF never start a sequence
		return 1
	}
	n := 1
	for n <= need && n < len(p) && lo <= p[n] && p[n] <= hi {
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}
