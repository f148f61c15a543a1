package blob

import "os"

// writeBehindChunk is how many bytes of an upload are written before the kernel is asked to
// start putting them on disk.
const writeBehindChunk = 8 << 20

// writeBehind writes to a file and has the kernel start writing each finished chunk to disk
// while the next one arrives (startWriteback), instead of leaving the whole file dirty in
// memory for the final fsync: on a large upload, receiving and the disk then work at the same
// time and the fsync waits only for the last chunk. It is a hint; durability still comes from
// the fsync.
type writeBehind struct {
	f       *os.File
	off     int64 // bytes written
	flushed int64 // bytes whose writeback was started
}

func (w *writeBehind) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.flushed >= writeBehindChunk {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}
