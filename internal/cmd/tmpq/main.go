package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/docuvault/docuvault/store"
)

func main() {
	ctx := context.Background()
	st, err := store.Open(ctx, os.Args[1], os.Args[2])
	if err != nil {
		panic(err)
	}
	db := st.DB()
	for _, q := range os.Args[3:] {
		var d []time.Duration
		for range 15 {
			t := time.Now()
			rows, err := db.QueryContext(ctx, q)
			if err != nil {
				fmt.Println("ERR", err)
				break
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			d = append(d, time.Since(t))
			_ = n
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		if len(d) > 0 {
			fmt.Printf("%8.2f ms  %s\n", float64(d[len(d)/2].Microseconds())/1000, q)
		}
	}
	_ = sql.ErrNoRows
}
