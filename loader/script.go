package loader

import (
	"bytes"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxScriptNesting is BINPRM_MAX_RECURSION: a fifth #! level is ELOOP.
const MaxScriptNesting = 4

// ParseShebang reads a #! line as fs/binfmt_script.c does: the interpreter
// up to the first blank, then everything after the blanks as one argument.
// head is the start of the file, as much as the kernel reads of it
// (BINPRM_BUF_SIZE, 256 bytes); a line that does not fit is ENOEXEC.
func ParseShebang(head []byte) (interp, arg string, err error) {
	line := head[2:]
	nl := bytes.IndexByte(line, '\n')
	if nl < 0 {
		// A line longer than the buffer the kernel reads is ENOEXEC
		// unless the interpreter itself ends inside it.
		if len(head) < 256 {
			nl = len(line)
		} else {
			return "", "", unix.ENOEXEC
		}
	}
	s := strings.Trim(string(line[:nl]), " \t")
	if s == "" {
		return "", "", unix.ENOEXEC
	}
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, "", nil
	}
	return s[:i], strings.TrimLeft(s[i:], " \t"), nil
}
