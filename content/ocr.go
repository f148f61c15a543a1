package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// OCR recognises text in images by running the tesseract command (Tesseract 5).
type OCR struct {
	command   string
	languages string
}

// OCRError is a failure of the OCR command itself (crashed, timed out): worth a retry,
// unlike a file that cannot be read.
type OCRError struct{ Err error }

func (e *OCRError) Error() string { return e.Err.Error() }
func (e *OCRError) Unwrap() error { return e.Err }

// ErrNoOCR means no OCR command is available (turned off, or not installed).
var ErrNoOCR = errors.New("no text: OCR not available")

var validLanguages = regexp.MustCompile(`^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$`)

// FindOCR looks for the command per mode: "off" gives nil; "auto" gives nil when the command
// is not found; "on" is an error when it is not found. languages is tesseract's -l value
// ("eng", "eng+deu").
func FindOCR(mode, command, languages string) (*OCR, error) {
	if mode == "off" {
		return nil, nil
	}
	if !validLanguages.MatchString(languages) {
		return nil, fmt.Errorf("ocr.languages %q: want names joined by +, e.g. eng+deu", languages)
	}
	path, err := exec.LookPath(command)
	if err != nil {
		if mode == "on" {
			return nil, fmt.Errorf("ocr.command %q not found (ocr.enabled = \"on\"): %w", command, err)
		}
		return nil, nil
	}
	return &OCR{command: path, languages: languages}, nil
}

// Command is the resolved path of the OCR command.
func (o *OCR) Command() string { return o.command }

// Recognize returns the text tesseract reads in img. The pixels are streamed uncompressed
// (a PGM or PPM, row by row: no copy of the image is held) to its stdin and the text read
// from stdout: no temporary files, and no PNG to deflate here and inflate in tesseract.
func (o *OCR) Recognize(ctx context.Context, img image.Image, dpi int) (string, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writePNM(pw, img)) }()
	defer pr.Close() // ends the writer if tesseract stopped reading
	return o.RecognizeEncoded(ctx, pr, dpi)
}

// writePNM writes img as a binary PGM (grey images) or PPM (any other, on white, as
// tesseract puts transparent pixels).
func writePNM(w io.Writer, img image.Image) error {
	b := img.Bounds()
	if g, ok := img.(*image.Gray); ok {
		if _, err := fmt.Fprintf(w, "P5\n%d %d\n255\n", b.Dx(), b.Dy()); err != nil {
			return err
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			i := g.PixOffset(b.Min.X, y)
			if _, err := w.Write(g.Pix[i : i+b.Dx()]); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := fmt.Fprintf(w, "P6\n%d %d\n255\n", b.Dx(), b.Dy()); err != nil {
		return err
	}
	row := image.NewRGBA(image.Rect(0, 0, b.Dx(), 1))
	out := make([]byte, 3*b.Dx())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		draw.Draw(row, row.Rect, image.White, image.Point{}, draw.Src)
		draw.Draw(row, row.Rect, img, image.Pt(b.Min.X, y), draw.Over)
		for x := 0; x < b.Dx(); x++ {
			copy(out[3*x:3*x+3], row.Pix[4*x:4*x+3])
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}

// RecognizeEncoded is Recognize for an image file tesseract decodes itself (JPEG, PNG,
// PNM…), streamed from r as it is. dpi 0 leaves the resolution to the file.
func (o *OCR) RecognizeEncoded(ctx context.Context, r io.Reader, dpi int) (string, error) {
	args := []string{"stdin", "stdout", "-l", o.languages}
	if dpi > 0 {
		args = append(args, "--dpi", fmt.Sprint(dpi))
	}
	cmd := exec.CommandContext(ctx, o.command, args...)
	cmd.Stdin = r
	cmd.WaitDelay = 5 * time.Second // a killed wrapper's children must not hold the pipes open
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1") // one core per page: the worker pool sets the concurrency
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", &OCRError{fmt.Errorf("OCR: %w", context.Cause(ctx))}
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return "", &OCRError{fmt.Errorf("OCR failed: %w (%s)", err, msg)}
	}
	return out.String(), nil
}
