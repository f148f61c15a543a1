package main

import (
	"strings"
	"testing"
)

// TestConfigTrashDays: documents.trash_days defaults to 30, is read from the environment,
// and must be between 1 and 36500 days.
func TestConfigTrashDays(t *testing.T) {
	c, err := loadConfig("", envMap())
	if err != nil || c.Documents.TrashDays != 30 {
		t.Fatalf("default %d, %v", c.Documents.TrashDays, err)
	}
	if c, err := loadConfig("", envMap("DOCUVAULT_DOCUMENTS_TRASH_DAYS", "7")); err != nil || c.Documents.TrashDays != 7 {
		t.Fatalf("override %d, %v", c.Documents.TrashDays, err)
	}
	for _, bad := range []string{"0", "-1", "36501", "99999999999"} {
		if _, err := loadConfig("", envMap("DOCUVAULT_DOCUMENTS_TRASH_DAYS", bad)); err == nil || !strings.Contains(err.Error(), "documents.trash_days") {
			t.Fatalf("trash_days %s: %v", bad, err)
		}
	}
}
