package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/docuvault/docuvault/classify"
)

// cmdClassify is `docuvault classify eval [-user U | -corpus DIR] [-folds K]`: how well the
// local classifier sorts a user's corrected documents, or a folder of labelled files (one
// subfolder per topic), from the topics' names and descriptions alone and with the learned
// model in k-fold cross-validation (-folds 0: leave-one-out).
func cmdClassify(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	if len(args) == 0 || args[0] != "eval" {
		return usageError{"classify: want `classify eval [-user NAME | -corpus DIR] [-folds K]`"}
	}
	var user, corpusDir string
	var folds int
	cfgPath, err := parseFlags("classify eval", args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "evaluate on this user's documents with topics set by hand")
		fs.StringVar(&corpusDir, "corpus", "", "evaluate on a folder with one subfolder of text files per topic (optional _description file per topic)")
		fs.IntVar(&folds, "folds", 10, "k-fold cross-validation of the learned model; 0 = leave-one-out")
	})
	if err != nil {
		return err
	}
	if (user == "") == (corpusDir == "") {
		return usageError{"classify eval: give exactly one of -user and -corpus"}
	}
	if folds < 0 || folds == 1 {
		return usageError{"classify eval: -folds must be 0 (leave-one-out) or at least 2"}
	}
	var corpus classify.Corpus
	if corpusDir != "" {
		if corpus, err = classify.LoadCorpus(corpusDir); err != nil {
			return err
		}
	} else {
		cfg, err := loadConfig(cfgPath, env)
		if err != nil {
			return err
		}
		if corpus, err = userCorpus(ctx, cfg, user); err != nil {
			return err
		}
	}
	if folds == 0 || folds > len(corpus.Docs) {
		folds = len(corpus.Docs)
	}
	policy := classify.DefaultPolicy
	cold, err := classify.Evaluate(ctx, corpus.Topics, []classify.Fold{{Test: corpus.Docs}}, policy, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "== names and descriptions alone (cold start), %d topics\n", len(corpus.Topics))
	cold.Report(stdout)
	learned, err := classify.Evaluate(ctx, corpus.Topics, classify.KFold(corpus.Docs, folds), policy, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n== with the learned model, %d-fold cross-validation\n", folds)
	learned.Report(stdout)
	return nil
}

// userCorpus turns a user's hand-labelled documents into a corpus over their visible topics;
// a document with several manual topics counts under the first by topic ID.
func userCorpus(ctx context.Context, cfg Config, username string) (classify.Corpus, error) {
	var c classify.Corpus
	st, err := openStore(ctx, cfg)
	if err != nil {
		return c, err
	}
	defer st.Close()
	u, err := st.UserByUsername(ctx, username)
	if err != nil {
		return c, fmt.Errorf("classify eval: user %q: %w", username, err)
	}
	topics, err := st.VisibleTopics(ctx, u.ID)
	if err != nil {
		return c, err
	}
	names := map[string]string{}
	for _, t := range topics {
		c.Topics = append(c.Topics, classify.Candidate{ID: t.ID, Name: t.Name, Description: t.Description, System: t.System()})
		names[t.ID] = t.Name
	}
	docs, err := st.LabeledDocuments(ctx, u.ID)
	if err != nil {
		return c, err
	}
	for _, d := range docs {
		c.Docs = append(c.Docs, classify.LabeledDoc{Filename: d.Filename, Text: d.Text, Topic: names[d.TopicIDs[0]]})
	}
	if len(c.Docs) < 2 || len(c.Topics) < 2 {
		return c, errors.New("classify eval: the user needs at least two documents with topics set by hand, and two topics")
	}
	return c, nil
}
