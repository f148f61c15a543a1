package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"regexp"
	"strings"
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

// Recognize returns the text tesseract reads in img. The image is sent as PNG on stdin
// and the text read from stdout: no temporary files.
func (o *OCR) Recognize(ctx context.Context, img image.Image, dpi int) (string, error) {
	var in bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&in, img); err != nil {
		return "", fmt.Errorf("OCR: encoding the page: %w", err)
	}
	return o.RecognizePNG(ctx, in.Bytes(), dpi)
}

// RecognizePNG is Recognize for an encoded image (PNG, JPEG, TIFF…).
func (o *OCR) RecognizePNG(ctx context.Context, b []byte, dpi int) (string, error) {
	args := []string{"stdin", "stdout", "-l", o.languages}
	if dpi > 0 {
		args = append(args, "--dpi", fmt.Sprint(dpi))
	}
	cmd := exec.CommandContext(ctx, o.command, args...)
	cmd.Stdin = bytes.NewReader(b)
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
