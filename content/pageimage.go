package content

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"

	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
)

// How a page reached OCR (PageImage.Source).
const (
	SourceEmbeddedJPEG   = "embedded-jpeg"   // the page's scan, its JPEG bytes as stored in the PDF
	SourceEmbeddedPixels = "embedded-pixels" // the page's scan decoded by PDFium, uncompressed
	SourceRender         = "render"          // the page rendered by PDFium, uncompressed
)

// maxPixelBytes bounds the uncompressed copy of a page's own image handed to OCR; a larger
// one (a colour scan at 600 dpi) is rendered at the OCR resolution instead.
const maxPixelBytes = 48 << 20

// PageImage is a page as OCR reads it: an encoded image tesseract decodes itself.
type PageImage struct {
	Data   []byte // a JPEG, or a binary PGM/PPM (uncompressed: nothing to deflate or inflate)
	DPI    int    // resolution on the page, for tesseract's --dpi
	Source string // SourceEmbeddedJPEG, SourceEmbeddedPixels or SourceRender
}

// OCRImage is page i as OCR should read it. A scanned page is usually one image covering
// the page: when it is the page's only content, upright, opaque, with square pixels at a
// resolution near dpi, its own pixels are what OCR reads — the stored JPEG as it is, or the
// decoded pixels of another format — instead of a render at dpi, which costs a decode, a
// resample and (as PNG) a deflate that tesseract then has to inflate. Any other page is
// rendered at dpi in grey levels.
func (d *PDF) OCRImage(i, dpi int) (PageImage, error) {
	if img, ok := d.embeddedScan(i, dpi); ok {
		return img, nil
	}
	return d.renderForOCR(i, dpi)
}

// renderForOCR draws page i at dpi in grey levels, as a PGM.
func (d *PDF) renderForOCR(i, dpi int) (PageImage, error) {
	r, err := d.inst.RenderPageInDPI(&requests.RenderPageInDPI{Page: d.page(i), DPI: dpi,
		ImageFormat: requests.RenderImageFormatGrayscale})
	if err != nil {
		return PageImage{}, fmt.Errorf("rendering PDF page %d: %w", i+1, err)
	}
	defer r.Cleanup()
	g, ok := r.Result.RenderedImage.(*image.Gray)
	if !ok {
		return PageImage{}, fmt.Errorf("rendering PDF page %d: unexpected %T", i+1, r.Result.RenderedImage)
	}
	return PageImage{Data: pnm(g.Pix, g.Stride, g.Rect.Dx(), g.Rect.Dy(), 1, false), DPI: dpi, Source: SourceRender}, nil
}

// embeddedScan is the single image of page i when OCR can read it instead of a render;
// ok is false for any page it cannot vouch for (the caller renders those).
func (d *PDF) embeddedScan(i, dpi int) (PageImage, bool) {
	page := d.page(i)
	rot, err := d.inst.FPDFPage_GetRotation(&requests.FPDFPage_GetRotation{Page: page})
	if err != nil || rot.PageRotation != enums.FPDF_PAGE_ROTATION_NONE {
		return PageImage{}, false // tesseract would read the text sideways
	}
	n, err := d.inst.FPDFPage_CountObjects(&requests.FPDFPage_CountObjects{Page: page})
	if err != nil || n.Count != 1 {
		return PageImage{}, false // anything drawn beside the image is only in a render
	}
	o, err := d.inst.FPDFPage_GetObject(&requests.FPDFPage_GetObject{Page: page, Index: 0})
	if err != nil {
		return PageImage{}, false
	}
	obj := o.PageObject
	if t, err := d.inst.FPDFPageObj_GetType(&requests.FPDFPageObj_GetType{PageObject: obj}); err != nil || t.Type != enums.FPDF_PAGEOBJ_IMAGE {
		return PageImage{}, false
	}
	if t, err := d.inst.FPDFPageObj_HasTransparency(&requests.FPDFPageObj_HasTransparency{PageObject: obj}); err != nil || t.HasTransparency {
		return PageImage{}, false // a mask changes what the page shows
	}
	m, err := d.inst.FPDFPageObj_GetMatrix(&requests.FPDFPageObj_GetMatrix{PageObject: obj})
	if err != nil || m.Matrix.A <= 0 || m.Matrix.D <= 0 || m.Matrix.B != 0 || m.Matrix.C != 0 {
		return PageImage{}, false // rotated, mirrored or skewed on the page
	}
	md, err := d.inst.FPDFImageObj_GetImageMetadata(&requests.FPDFImageObj_GetImageMetadata{ImageObject: obj, Page: page})
	if err != nil {
		return PageImage{}, false
	}
	meta := md.ImageMetadata
	h, v := float64(meta.HorizontalDPI), float64(meta.VerticalDPI)
	if h <= 0 || math.Abs(h-v) > h/50 {
		return PageImage{}, false // stretched pixels (a fax's 204×98 dpi) read badly
	}
	// Near the render resolution: much lower is better upsampled by a render, much higher
	// costs tesseract more than it gains.
	if h < float64(dpi)*2/3 || h > float64(dpi)*2 || uint64(meta.Width)*uint64(meta.Height) > MaxImagePixels {
		return PageImage{}, false
	}
	res := int(math.Round(h))
	gray := meta.Colorspace == enums.FPDF_COLORSPACE_DEVICEGRAY || meta.Colorspace == enums.FPDF_COLORSPACE_CALGRAY ||
		(meta.Colorspace == enums.FPDF_COLORSPACE_ICCBASED && meta.BitsPerPixel == 8)
	rgb := meta.Colorspace == enums.FPDF_COLORSPACE_DEVICERGB || meta.Colorspace == enums.FPDF_COLORSPACE_CALRGB ||
		(meta.Colorspace == enums.FPDF_COLORSPACE_ICCBASED && meta.BitsPerPixel == 24)
	if !(gray && meta.BitsPerPixel == 8) && !(rgb && meta.BitsPerPixel == 24) {
		// Bilevel, indexed, CMYK, Lab…: PDFium's conversion of those is what the page
		// shows, so they are rendered.
		return PageImage{}, false
	}
	if jpg, ok := d.embeddedJPEG(obj, int(meta.Width), int(meta.Height)); ok {
		return PageImage{Data: jpg, DPI: res, Source: SourceEmbeddedJPEG}, true
	}
	// Decoded pixels are held here while tesseract reads them: no more than a render
	// would hold, give or take.
	if uint64(meta.Width)*uint64(meta.Height)*uint64(meta.BitsPerPixel/8) > maxPixelBytes {
		return PageImage{}, false
	}
	if px, ok := d.embeddedPixels(obj, int(meta.Width), int(meta.Height)); ok {
		return PageImage{Data: px, DPI: res, Source: SourceEmbeddedPixels}, true
	}
	return PageImage{}, false
}

// embeddedJPEG is the stored stream of an image whose only filter is DCTDecode: a JPEG
// file as it is.
func (d *PDF) embeddedJPEG(obj references.FPDF_PAGEOBJECT, w, h int) ([]byte, bool) {
	fc, err := d.inst.FPDFImageObj_GetImageFilterCount(&requests.FPDFImageObj_GetImageFilterCount{ImageObject: obj})
	if err != nil || fc.Count != 1 {
		return nil, false
	}
	f, err := d.inst.FPDFImageObj_GetImageFilter(&requests.FPDFImageObj_GetImageFilter{ImageObject: obj, Index: 0})
	if err != nil || f.ImageFilter != "DCTDecode" {
		return nil, false
	}
	raw, err := d.inst.FPDFImageObj_GetImageDataRaw(&requests.FPDFImageObj_GetImageDataRaw{ImageObject: obj})
	if err != nil {
		return nil, false
	}
	// The headers must say what the PDF says: a stream that is not the JPEG it claims to
	// be is left to PDFium.
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(raw.Data))
	if err != nil || cfg.Width != w || cfg.Height != h || cfg.ColorModel == color.CMYKModel {
		return nil, false
	}
	return raw.Data, true
}

// embeddedPixels is the image decoded by PDFium at its own size, as a PGM or PPM.
func (d *PDF) embeddedPixels(obj references.FPDF_PAGEOBJECT, w, h int) ([]byte, bool) {
	bm, err := d.inst.FPDFImageObj_GetBitmap(&requests.FPDFImageObj_GetBitmap{ImageObject: obj})
	if err != nil {
		return nil, false
	}
	defer d.inst.FPDFBitmap_Destroy(&requests.FPDFBitmap_Destroy{Bitmap: bm.Bitmap})
	f, err := d.inst.FPDFBitmap_GetFormat(&requests.FPDFBitmap_GetFormat{Bitmap: bm.Bitmap})
	if err != nil {
		return nil, false
	}
	var bpp int
	switch f.Format {
	case enums.FPDF_BITMAP_FORMAT_GRAY:
		bpp = 1
	case enums.FPDF_BITMAP_FORMAT_BGR:
		bpp = 3
	case enums.FPDF_BITMAP_FORMAT_BGRX:
		bpp = 4
	default:
		return nil, false
	}
	bw, err1 := d.inst.FPDFBitmap_GetWidth(&requests.FPDFBitmap_GetWidth{Bitmap: bm.Bitmap})
	bh, err2 := d.inst.FPDFBitmap_GetHeight(&requests.FPDFBitmap_GetHeight{Bitmap: bm.Bitmap})
	st, err3 := d.inst.FPDFBitmap_GetStride(&requests.FPDFBitmap_GetStride{Bitmap: bm.Bitmap})
	if err1 != nil || err2 != nil || err3 != nil || bw.Width != w || bh.Height != h || st.Stride < w*bpp {
		return nil, false
	}
	buf, err := d.inst.FPDFBitmap_GetBuffer(&requests.FPDFBitmap_GetBuffer{Bitmap: bm.Bitmap})
	if err != nil || len(buf.Buffer) < st.Stride*h {
		return nil, false
	}
	return pnm(buf.Buffer, st.Stride, w, h, bpp, true), true // copied out before the bitmap is destroyed
}

// pnm writes pixels as a binary PGM (bpp 1: grey) or PPM (bpp 3 or 4: three colour bytes,
// then one unused), rows stride bytes apart; bgr tells the colour order (PDFium's bitmaps
// are BGR, Go's RGBA is RGB). It is the cheapest format tesseract reads: a header and the
// pixels, nothing to compress or decompress.
func pnm(pix []byte, stride, w, h, bpp int, bgr bool) []byte {
	magic := "P5"
	if bpp > 1 {
		magic = "P6"
	}
	head := fmt.Sprintf("%s\n%d %d\n255\n", magic, w, h)
	out := make([]byte, 0, len(head)+w*h*min(bpp, 3))
	out = append(out, head...)
	for y := 0; y < h; y++ {
		row := pix[y*stride : y*stride+w*bpp]
		if bpp == 1 {
			out = append(out, row...)
			continue
		}
		for x := 0; x < len(row); x += bpp {
			if bgr {
				out = append(out, row[x+2], row[x+1], row[x])
			} else {
				out = append(out, row[x], row[x+1], row[x+2])
			}
		}
	}
	return out
}
