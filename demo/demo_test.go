package demo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/karyashala/karyashala/demo"
	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/storage"
	"github.com/karyashala/karyashala/storage/storagetest"
)

// counts is how many of each kind of row the demo writes a database holds.
type counts struct{ workshops, members, tasks, trainings, complaints int }

func count(t *testing.T, db *storage.DB) counts {
	t.Helper()
	ctx := context.Background()
	s := db.Services()
	ws, err := s.Workshops.FindWorkshops(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, _, err := s.Members.FindMembers(ctx, domain.MemberFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err := s.Tasks.FindTasks(ctx, domain.TaskFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	trs, err := s.Trainings.UpcomingTrainings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := s.Complaints.FindComplaints(ctx, domain.ComplaintFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return counts{len(ws), len(ms), len(ts), len(trs), len(cs)}
}

// A step that fails, here a demo phone someone already registered with,
// leaves nothing behind: not a workshop that makes every later run say
// the database already has one.
func TestLoadWritesNothingWhenAStepFails(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	s := db.Services()
	if err := s.Members.CreateMember(ctx, &domain.Member{Phone: demo.WorkerPhone, Name: "Asha", Role: domain.RoleWorker, Status: domain.MemberActive}); err != nil {
		t.Fatal(err)
	}
	before := count(t, db)
	for i := 0; i < 2; i++ {
		loaded, err := demo.Load(ctx, s, db, db.Languages, db.Now())
		if err == nil || loaded {
			t.Fatalf("load %d with a demo phone taken: loaded=%v err=%v, want the member's error", i+1, loaded, err)
		}
		if !strings.Contains(err.Error(), "member Asha") {
			t.Errorf("load %d: %v, want it to name the member", i+1, err)
		}
		if got := count(t, db); got != before {
			t.Fatalf("load %d failed but wrote: %+v, was %+v", i+1, got, before)
		}
	}
}

// The demo people speak configured languages only, and every title covers
// each configured language, English where the demo has no text of its own.
func TestLoadInConfiguredLanguages(t *testing.T) {
	english := map[string]bool{"Pack incense sticks": true, "Stitch cloth bags": true, "Sort photos (digital)": true}
	for _, c := range []struct {
		langs []string
		speak map[string]string // member name: language
	}{
		{[]string{"en"}, map[string]string{"Sunita Devi": "en", "Asha": "en", "Meena": "en"}},
		{[]string{"hi"}, map[string]string{"Sunita Devi": "hi", "Asha": "hi", "Meena": "hi"}},
		{[]string{"sw", "hi"}, map[string]string{"Sunita Devi": "hi", "Asha": "sw", "Meena": "hi"}},
		{[]string{"en", "hi"}, map[string]string{"Sunita Devi": "hi", "Asha": "en", "Meena": "hi"}},
	} {
		t.Run(strings.Join(c.langs, ","), func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.Open(t)
			db.Languages = c.langs
			s := db.Services()
			loaded, err := demo.Load(ctx, s, db, c.langs, db.Now())
			if err != nil || !loaded {
				t.Fatalf("load: loaded=%v err=%v", loaded, err)
			}
			if got, want := count(t, db), (counts{1, 3, 3, 2, 3}); got != want {
				t.Fatalf("loaded %+v, want %+v", got, want)
			}
			ms, _, _ := s.Members.FindMembers(ctx, domain.MemberFilter{Limit: 100})
			for _, m := range ms {
				if m.Lang != c.speak[m.Name] {
					t.Errorf("%s speaks %q, want %q", m.Name, m.Lang, c.speak[m.Name])
				}
			}
			ts, _, _ := s.Tasks.FindTasks(ctx, domain.TaskFilter{Limit: 100})
			for _, task := range ts {
				if len(task.Titles) != len(c.langs) {
					t.Errorf("task %d titles %q, want one for each of %q", task.ID, task.Titles, c.langs)
				}
				if sw, ok := task.Titles["sw"]; ok && !english[sw] {
					t.Errorf("task %d's sw title %q is not the English one", task.ID, sw)
				}
			}
			again, err := demo.Load(ctx, s, db, c.langs, db.Now())
			if err != nil || again {
				t.Fatalf("second load: loaded=%v err=%v, want nothing done", again, err)
			}
		})
	}
}
