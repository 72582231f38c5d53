package main

import (
	"strconv"
	"strings"
)

var (
	methods = [...]string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	paths   = [...]string{"/", "/api/users/", "/api/orders/", "/static/app.js", "/login", "/api/search?q="}
	codes   = [...]int{200, 200, 200, 200, 201, 204, 304, 400, 404, 500}
)

// appendLogLine appends the i-th generated access-log line, without its
// newline: deterministic, about 100 bytes, with a client address to mask.
//
//	2026-11-28T10:00:00.007Z GET /api/users/7 200 13ms ip=10.0.0.7 req=7
func appendLogLine(b []byte, i int) []byte {
	h := uint32(i)*2654435761 + 12345 // a cheap, fixed scramble of i
	sec := i / 1000
	b = append(b, "2026-11-28T"...)
	b = appendPadded(b, 10+sec/3600%14, 2)
	b = append(b, ':')
	b = appendPadded(b, sec/60%60, 2)
	b = append(b, ':')
	b = appendPadded(b, sec%60, 2)
	b = append(b, '.')
	b = appendPadded(b, i%1000, 3)
	b = append(b, "Z "...)
	b = append(b, methods[h%uint32(len(methods))]...)
	b = append(b, ' ')
	b = append(b, paths[h>>3%uint32(len(paths))]...)
	b = strconv.AppendInt(b, int64(h>>8%100000), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(codes[h>>5%uint32(len(codes))]), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(h>>12%900), 10)
	b = append(b, "ms ip="...)
	for k := range 4 {
		if k > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, int64(h>>(8*k)&0xff), 10)
	}
	b = append(b, " req="...)
	return strconv.AppendInt(b, int64(i), 10)
}

func appendPadded(b []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// maskLine appends line to b with the last octet of its client address
// replaced by "x" (ip=10.0.0.7 becomes ip=10.0.0.x), as a log shipper
// anonymises addresses. A line without an address is appended unchanged.
func maskLine(b []byte, line string) []byte {
	i := strings.Index(line, " ip=")
	if i < 0 {
		return append(b, line...)
	}
	end := i + len(" ip=")
	for end < len(line) && line[end] != ' ' {
		end++
	}
	dot := strings.LastIndexByte(line[:end], '.')
	if dot <= i {
		return append(b, line...)
	}
	b = append(b, line[:dot+1]...)
	b = append(b, 'x')
	return append(b, line[end:]...)
}

// isMasked reports whether line has a client address whose last octet is
// masked.
func isMasked(line string) bool {
	i := strings.Index(line, " ip=")
	if i < 0 {
		return false
	}
	rest := line[i+len(" ip="):]
	if j := strings.IndexByte(rest, ' '); j >= 0 {
		rest = rest[:j]
	}
	return strings.HasSuffix(rest, ".x") && strings.Count(rest, ".") == 3
}
