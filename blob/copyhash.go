package blob

import (
	"crypto/sha256"
	"io"
	"sync"
)

// copyChunk is the size of the reads and writes of an upload: big enough that a gigabyte
// takes a few thousand system calls, small enough that the writer and the hasher read a chunk
// while it is still in the processor's cache.
const copyChunk = 256 << 10

// copyBuffers is how many chunks one upload has in flight: read, being written, being hashed.
const copyBuffers = 8

// chunks recycles the copy buffers of uploads.
var chunks = sync.Pool{New: func() any { b := make([]byte, copyChunk); return &b }}

// copyHashing copies r to w and returns the number of bytes written and, if hash is set, the
// SHA-256 of what it copied (nil otherwise). Reading, writing and hashing run at the same time on their own goroutines, each
// chunk read once into a buffer that the writer and the hasher both read, so the SHA-256 is
// not a second pass and costs no time on a machine with a spare core, and the request body
// is read on while the file system takes a write. A write error stops the reading.
//
// A body that fits in one chunk (most documents: a letter, a receipt, a scan of a page)
// is written and hashed on the caller's goroutine instead: the pipeline's hand-offs between
// goroutines cost more than they overlap for one chunk, and on a loaded server each of them
// waits for a processor.
func copyHashing(w io.Writer, r io.Reader, hash bool) (int64, []byte, error) {
	first := chunks.Get().(*[]byte)
	k, rerr := io.ReadFull(r, *first)
	if rerr != nil { // the body ended (or failed) within the first chunk
		defer chunks.Put(first)
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			rerr = nil
		}
		var n int
		var err error
		if k > 0 {
			n, err = w.Write((*first)[:k])
		}
		var sum []byte
		if hash {
			h := sha256.Sum256((*first)[:k])
			sum = h[:]
		}
		if err == nil {
			err = rerr
		}
		return int64(n), sum, err
	}
	return copyPipelined(w, r, hash, first)
}

// copyPipelined is copyHashing for a body longer than its first chunk, which has been read
// into first.
func copyPipelined(w io.Writer, r io.Reader, hash bool, first *[]byte) (int64, []byte, error) {
	toWrite := make(chan []byte, copyBuffers)
	toHash := make(chan []byte, copyBuffers)
	written := make(chan []byte, copyBuffers)
	hashed := make(chan []byte, copyBuffers)
	failed := make(chan struct{})
	type result struct {
		n   int64
		err error
	}
	wres := make(chan result, 1)
	go func() {
		var res result
		for b := range toWrite {
			if res.err == nil {
				k, err := w.Write(b)
				res.n += int64(k)
				if err != nil {
					res.err = err
					close(failed)
				}
			}
			written <- b
		}
		wres <- res
	}()
	sum := make(chan []byte, 1)
	go func() {
		if !hash {
			for b := range toHash {
				hashed <- b
			}
			sum <- nil
			return
		}
		h := sha256.New()
		for b := range toHash {
			h.Write(b)
			hashed <- b
		}
		sum <- h.Sum(nil)
	}()

	// Buffers are taken as the body needs them: a small file holds one chunk, not all.
	owned := make([]*[]byte, 1, copyBuffers)
	owned[0] = first
	toWrite <- *first
	toHash <- *first
	inFlight := 1
	var rerr error
	for {
		var buf []byte
		if len(owned) < copyBuffers {
			b := chunks.Get().(*[]byte)
			owned = append(owned, b)
			buf = *b
		} else {
			// Both stages take the chunks in order: the oldest one is done when both gave it back.
			<-written
			buf = <-hashed
			buf = buf[:cap(buf)]
			inFlight--
		}
		select {
		case <-failed:
		default:
			var k int
			k, rerr = io.ReadFull(r, buf)
			if k > 0 {
				toWrite <- buf[:k]
				toHash <- buf[:k]
				inFlight++
			}
			if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
				rerr = nil
			} else if rerr == nil {
				continue
			}
		}
		break
	}
	close(toWrite)
	close(toHash)
	for ; inFlight > 0; inFlight-- {
		<-written
		<-hashed
	}
	res := <-wres
	h := <-sum
	for _, b := range owned {
		chunks.Put(b)
	}
	if res.err != nil {
		return res.n, h, res.err
	}
	return res.n, h, rerr
}
