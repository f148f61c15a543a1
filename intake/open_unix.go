//go:build unix

package intake

import (
	"os"
	"syscall"
)

// openNoFollow opens a consume-folder file for reading, refusing a symbolic link put in its
// place after it was looked at: a folder's owner must not make the server read other files.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}
