// Applies the remembered light or dark theme before the first paint (a classic script, so it blocks).
try { const t = localStorage.getItem('theme'); if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t; } catch { /* storage off */ }
