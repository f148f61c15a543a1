package content

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders registered for image.Decode
	"image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"path"
	"strings"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// MaxImagePixels bounds a decoded image (about 256 MB of RGBA): larger ones are refused
// before any pixel is decoded, so a small file cannot claim a huge canvas.
const MaxImagePixels = 64_000_000

// ThumbnailWidth is the width of every thumbnail; the height keeps the aspect ratio.
const ThumbnailWidth = 400

// ThumbnailType is the media type of every thumbnail.
const ThumbnailType = "image/jpeg"

// Kind tells how a document's bytes are read: "pdf", "image" or "" (neither).
func Kind(contentType, filename string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/pdf":
		return "pdf"
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff", "image/bmp":
		return "image"
	}
	switch strings.ToLower(path.Ext(filename)) {
	case ".pdf":
		return "pdf"
	case ".png", ".jpg", ".jpeg", ".gif", ".webp", ".tif", ".tiff", ".bmp":
		return "image"
	}
	return ""
}

// decodeImage decodes a PNG, JPEG, GIF, WebP, TIFF or BMP (the first frame), refusing one
// past MaxImagePixels, and says which format it was ("jpeg", "png", …).
func decodeImage(r io.ReadSeeker) (image.Image, string, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, "", fmt.Errorf("unreadable image: %w", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, "", fmt.Errorf("image of %d×%d pixels is larger than %d megapixels", cfg.Width, cfg.Height, MaxImagePixels/1_000_000)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, "", err
	}
	img, format, err := image.Decode(r)
	if err != nil {
		return nil, "", fmt.Errorf("unreadable image: %w", err)
	}
	return img, format, nil
}

// Thumbnail scales img to ThumbnailWidth (never up) on white, as a JPEG.
func Thumbnail(img image.Image) ([]byte, error) {
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, errors.New("empty image")
	}
	w := min(ThumbnailWidth, b.Dx())
	h := max(1, int(int64(b.Dy())*int64(w)/int64(b.Dx())))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src) // transparency on white
	draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encoding thumbnail: %w", err)
	}
	return buf.Bytes(), nil
}
