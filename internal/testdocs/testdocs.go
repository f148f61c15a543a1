// Package testdocs makes real documents for tests: text PDFs, scans (images of text drawn
// with a real font) and image-only PDFs, all built in memory.
package testdocs

import (
	"bytes"
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
	jpg := JPEG(img, 85)
	b := img.Bounds()
	cs := "/DeviceRGB"
	if _, gray := img.(*image.Gray); gray {
		cs = "/DeviceGray"
	}
	w, h := b.Dx()*72/300, b.Dy()*72/300
	stream := fmt.Sprintf("q %d 0 0 %d 0 0 cm /Im1 Do Q", w, h)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>", w, h),
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream",
			b.Dx(), b.Dy(), cs, len(jpg), jpg),
	}
	return pdf(objs)
}
