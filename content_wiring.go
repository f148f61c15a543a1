package main

import (
	"log/slog"
	"path/filepath"
	"time"

	"github.com/docuvault/docuvault/content"
)

// maxPDFBytes bounds the PDFs read for text, thumbnails and OCR (PDFium holds the whole
// file in its memory).
const maxPDFBytes = 100 << 20

// newContentReader prepares PDFium (started by the first PDF, its compiled module cached in
// the data dir) and finds the OCR command. It logs whether OCR is available.
func newContentReader(cfg Config, log *slog.Logger) (*content.Reader, error) {
	ocr, err := content.FindOCR(cfg.OCR.Enabled, cfg.OCR.Command, cfg.OCR.Languages)
	if err != nil {
		return nil, err
	}
	if ocr != nil {
		log.Info("OCR available", "command", ocr.Command(), "languages", cfg.OCR.Languages)
	} else {
		log.Info("OCR not available: scans and photos are stored without text", "enabled", cfg.OCR.Enabled, "command", cfg.OCR.Command)
	}
	return &content.Reader{
		PDF:         content.NewPDFium(filepath.Join(cfg.Server.DataDir, "cache", "pdfium"), max(cfg.Classify.Workers, 1)),
		OCR:         ocr,
		OCRMaxPages: cfg.OCR.MaxPages,
		OCRTimeout:  time.Duration(cfg.OCR.Timeout),
		OCRDPI:      300,
		MaxPDFBytes: maxPDFBytes,
		MaxChars:    100_000,
	}, nil
}

// classifyTimeout is the per-document timeout: OCR's own time is added to the
// classification timeout. The lease stays as configured (it is how soon a crashed
// replica's documents are taken over): keep classify.lease above the sum.
func classifyTimeout(cfg Config, ocr bool) time.Duration {
	timeout := time.Duration(cfg.Classify.Timeout)
	if ocr {
		timeout += time.Duration(cfg.OCR.Timeout)
	}
	return timeout
}
