//go:build !unix

package intake

import "os"

// openNoFollow opens a consume-folder file; the file was seen as a regular file (not a
// link) just before, and the open file's size and time are checked against what was seen.
func openNoFollow(path string) (*os.File, error) { return os.Open(path) }
