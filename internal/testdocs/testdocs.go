// Package testdocs makes real documents for tests: text PDFs, scans (images of text drawn
// with a real font) and image-only PDFs, all built in memory.
package testdocs

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Scan draws lines of black text on a white page of width×height pixels, in Go Regular at
// size points for 300 dpi: what a scanner makes of a printed page.
func Scan(width, height int, size float64, lines ...string) image.Image {
	img := image.NewGray(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 300, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	defer face.Close()
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face}
	lineHeight := face.Metrics().Height.Ceil() * 3 / 2
	for i, l := range lines {
		d.Dot = fixed.P(width/12, height/10+(i+1)*lineHeight)
		d.DrawString(l)
	}
	return img
}

// JPEG encodes img.
func JPEG(img image.Image, quality int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// pdf writes objects (numbered from 1, the catalog first) with a valid xref table.
func pdf(objs []string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// TextPDF is a PDF with one page per entry, each showing its lines in Helvetica (a real
// text layer).
func TextPDF(pages ...[]string) []byte {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}
	var kids []string
	esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`)
	for _, lines := range pages {
		var s strings.Builder
		s.WriteString("BT /F1 12 Tf 72 720 Td 14 TL")
		for _, l := range lines {
			s.WriteString(" (" + esc.Replace(l) + ") '")
		}
		s.WriteString(" ET")
		objs = append(objs, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", s.Len(), s.String()))
		content := len(objs)
		objs = append(objs, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources << /Font << /F1 3 0 R >> >> >>", content))
		kids = append(kids, fmt.Sprintf("%d 0 R", len(objs)))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	return pdf(objs)
}

// ImagePDF is a one-page PDF whose only content is img as a JPEG (DCT) image XObject, the
// page sized for the image at 300 dpi: no text layer, as a scanner writes it.
func ImagePDF(img image.Image) []byte {
	return ScanPDF(img, ScanOptions{})
}

// ScanOptions vary a scanned page (ScanPDF).
type ScanOptions struct {
	Flate     bool     // the image deflated (FlateDecode) instead of a JPEG
	JPEG      []byte   // the image's stream as stored (DCTDecode), instead of img encoded
	TextLayer []string // lines of real text (Helvetica) over the image, as OCR software adds
	Frame     bool     // a line drawn around the image: the page is more than its image
	Rotate    int      // the page's /Rotate
	DPI       int      // the scan's resolution: the page is sized for it (0: 300)
}

// ScanPDF is a one-page PDF showing img over the whole page, sized for o.DPI, varied by o.
func ScanPDF(img image.Image, o ScanOptions) []byte {
	b := img.Bounds()
	cs, comps := "/DeviceRGB", 3
	if _, gray := img.(*image.Gray); gray {
		cs, comps = "/DeviceGray", 1
	}
	data, filter := o.JPEG, "/DCTDecode"
	switch {
	case o.Flate:
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		row := make([]byte, 0, b.Dx()*comps)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row = row[:0]
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if comps == 1 {
					row = append(row, byte(r>>8))
				} else {
					row = append(row, byte(r>>8), byte(g>>8), byte(bl>>8))
				}
			}
			_, _ = zw.Write(row)
		}
		_ = zw.Close()
		data, filter = z.Bytes(), "/FlateDecode"
	case data == nil:
		data = JPEG(img, 85)
	}
	dpi := o.DPI
	if dpi <= 0 {
		dpi = 300
	}
	w, h := b.Dx()*72/dpi, b.Dy()*72/dpi
	stream := fmt.Sprintf("q %d 0 0 %d 0 0 cm /Im1 Do Q", w, h)
	if o.Frame {
		stream += fmt.Sprintf(" 2 w 10 10 %d %d re S", w-20, h-20)
	}
	if len(o.TextLayer) > 0 {
		esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`)
		stream += fmt.Sprintf(" BT /F1 10 Tf 36 %d Td 12 TL", h-36)
		for _, l := range o.TextLayer {
			stream += " (" + esc.Replace(l) + ") '"
		}
		stream += " ET"
	}
	page := fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Rotate %d /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> /Font << /F1 6 0 R >> >> >>", w, h, o.Rotate)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		page,
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter %s /Length %d >>\nstream\n%s\nendstream",
			b.Dx(), b.Dy(), cs, filter, len(data), data),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	return pdf(objs)
}
