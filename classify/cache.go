package classify

import "sync"

// Bounds of the local classifier's caches: past them a cache starts over, which costs one
// recomputation per entry and keeps memory flat whatever the documents say.
const (
	maxCachedStems    = 200_000
	maxCachedProfiles = 10_000
)

// cache remembers stems and topic profiles across documents: the same words and the same
// topics come back with every document, and stemming them is most of the classifier's work.
type cache struct {
	mu       sync.RWMutex
	stems    map[string]string  // lang + "\x00" + word → stem
	profiles map[string]profile // lang + "\x00" + name + "\x00" + description → terms
}

func newCache() *cache {
	return &cache{stems: map[string]string{}, profiles: map[string]profile{}}
}

// stem is stemWord, remembered; a nil cache stems every time.
func (c *cache) stem(lang, w string) string {
	if c == nil {
		return stemWord(lang, w)
	}
	key := lang + "\x00" + w
	c.mu.RLock()
	s, ok := c.stems[key]
	c.mu.RUnlock()
	if ok {
		return s
	}
	s = stemWord(lang, w)
	c.mu.Lock()
	if len(c.stems) >= maxCachedStems {
		clear(c.stems)
	}
	c.stems[key] = s
	c.mu.Unlock()
	return s
}

// profile is a topic's profile in lang, remembered. Profiles are shared: callers only read.
func (c *cache) profile(lang string, cand Candidate) profile {
	if c == nil {
		return topicProfile(nil, lang, cand)
	}
	key := lang + "\x00" + cand.Name + "\x00" + cand.Description
	c.mu.RLock()
	p, ok := c.profiles[key]
	c.mu.RUnlock()
	if ok {
		return p
	}
	p = topicProfile(c, lang, cand)
	c.mu.Lock()
	if len(c.profiles) >= maxCachedProfiles {
		clear(c.profiles)
	}
	c.profiles[key] = p
	c.mu.Unlock()
	return p
}
