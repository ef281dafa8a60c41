package posim

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// ScalePoint is one run of a scaling series: throughput at a terminal count.
type ScalePoint struct {
	Terminals  int
	Throughput float64
}

// Series is a named scaling series (for instance "gateway" and "baseline").
type Series struct {
	Name   string
	Points []ScalePoint
}

var (
	blue  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	red   = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	green = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
)

// PlotTimeline writes a PNG of p50 and p99 latency (left axis, ms) and
// the answer rate per second over the run.
func PlotTimeline(r *Result, title, path string) error {
	if len(r.Timeline) == 0 {
		return fmt.Errorf("%w: no timeline to plot (run shorter than a second)", ErrLimit)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds into the run"
	p.Y.Label.Text = "latency (ms)"
	p50, p99 := make(plotter.XYs, len(r.Timeline)), make(plotter.XYs, len(r.Timeline))
	for i, s := range r.Timeline {
		p50[i] = plotter.XY{X: s.At, Y: s.P50}
		p99[i] = plotter.XY{X: s.At, Y: s.P99}
	}
	if err := addLine(p, "p50", p50, blue); err != nil {
		return err
	}
	if err := addLine(p, "p99", p99, red); err != nil {
		return err
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p.Save(8*vg.Inch, 4*vg.Inch, path)
}

// PlotRate writes a PNG of answers per second over the run.
func PlotRate(r *Result, title, path string) error {
	if len(r.Timeline) == 0 {
		return fmt.Errorf("%w: no timeline to plot (run shorter than a second)", ErrLimit)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds into the run"
	p.Y.Label.Text = "answers per second"
	xy := make(plotter.XYs, len(r.Timeline))
	for i, s := range r.Timeline {
		xy[i] = plotter.XY{X: s.At, Y: s.Rate}
	}
	if err := addLine(p, "rate", xy, green); err != nil {
		return err
	}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	return p.Save(8*vg.Inch, 3*vg.Inch, path)
}

// PlotScaling writes a PNG of throughput against the number of terminals,
// one line per series, on a logarithmic terminal axis.
func PlotScaling(series []Series, title, path string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "terminals"
	p.Y.Label.Text = "answers per second"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	colors := []color.Color{blue, red, green}
	n := 0
	for i, s := range series {
		if len(s.Points) == 0 {
			continue
		}
		xy := make(plotter.XYs, len(s.Points))
		for j, pt := range s.Points {
			xy[j] = plotter.XY{X: float64(max(pt.Terminals, 1)), Y: pt.Throughput}
		}
		if err := addLine(p, s.Name, xy, colors[i%len(colors)]); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%w: nothing to plot", ErrLimit)
	}
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}

func addLine(p *plot.Plot, name string, xy plotter.XYs, c color.Color) error {
	l, s, err := plotter.NewLinePoints(xy)
	if err != nil {
		return err
	}
	l.Color, s.Color = c, c
	s.Radius = vg.Points(2)
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}
