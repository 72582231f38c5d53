//go:build !unix

package chromium

import "os/exec"

// ownGroup leaves cmd as it is: without process groups, cancelling kills
// the browser process only (exec.CommandContext's default).
func ownGroup(cmd *exec.Cmd) {}

// killGroup does nothing without process groups.
func killGroup(cmd *exec.Cmd) {}
