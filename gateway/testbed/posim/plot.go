package posim

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
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

// Goal is a horizontal goal line on a plot, in the plot's Y unit (ms for
// latency, answers per second for rates), named in the legend.
type Goal struct {
	Label string
	Value float64
}

var (
	blue   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	red    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	green  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	orange = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	grey   = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
)

// figure is a plot whose legend is drawn beside it, never over the data.
type figure struct {
	p      *plot.Plot
	legend plot.Legend
	names  []string // the legend's entries, in order
	bars   bool     // a bar chart (two-point comparisons)
}

func newFigure(title, x, y string) *figure {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Y.Tick.Marker = intTicks{}
	p.Add(plotter.NewGrid())
	return &figure{p: p, legend: plot.NewLegend()}
}

func (f *figure) addLegend(name string, thumbs ...plot.Thumbnailer) {
	f.legend.Add(name, thumbs...)
	f.names = append(f.names, name)
}

func (f *figure) addLine(name string, xy plotter.XYs, c color.Color) error {
	l, s, err := plotter.NewLinePoints(xy)
	if err != nil {
		return err
	}
	l.Color, s.Color = c, c
	s.Radius = vg.Points(2)
	f.p.Add(l, s)
	f.addLegend(name, l, s)
	return nil
}

// addGoals draws each goal as a dashed line across the plot and makes
// room for it on the Y axis.
func (f *figure) addGoals(goals []Goal) {
	for i, g := range goals {
		fn := plotter.NewFunction(func(float64) float64 { return g.Value })
		fn.Color = []color.Color{grey, orange}[i%2]
		fn.Width = vg.Points(1.5)
		fn.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		f.p.Add(fn)
		f.addLegend(g.Label, fn)
		f.p.Y.Max = math.Max(f.p.Y.Max, g.Value*1.1)
	}
}

// save writes the figure as a PNG of w×h: the plot on the left, the
// legend in a strip on its right.
func (f *figure) save(w, h vg.Length, path string) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	legendW := vg.Length(0)
	for _, n := range f.names {
		legendW = max(legendW, f.legend.TextStyle.Width(" "+n))
	}
	if legendW > 0 {
		legendW += f.legend.ThumbnailWidth + vg.Points(16)
	}
	f.p.Draw(draw.Crop(dc, 0, -legendW, 0, 0))
	if legendW > 0 {
		f.legend.Top, f.legend.Left = true, true
		f.legend.Draw(draw.Crop(dc, w-legendW+vg.Points(8), 0, 0, -vg.Points(30)))
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
		_ = out.Close()
		_ = os.Remove(path)
		return err
	}
	return out.Close()
}

// intTicks are the default ticks, labelled without decimals when every
// labelled tick is a whole number ("5000", not "5000.00").
type intTicks struct{}

func (intTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for _, t := range ticks {
		if t.Label != "" && t.Value != math.Trunc(t.Value) {
			return ticks
		}
	}
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', 0, 64)
		}
	}
	return ticks
}

// PlotTimeline writes a PNG of p50 and p99 latency (ms) per second of the
// run, with goal lines (for instance "goal: p99 ≤ 50 ms").
func PlotTimeline(r *Result, title, path string, goals ...Goal) error {
	f, err := timelineFigure(r, title, goals)
	if err != nil {
		return err
	}
	return f.save(9*vg.Inch, 4*vg.Inch, path)
}

func timelineFigure(r *Result, title string, goals []Goal) (*figure, error) {
	if len(r.Timeline) == 0 {
		return nil, fmt.Errorf("%w: no timeline to plot (run shorter than a second)", ErrLimit)
	}
	f := newFigure(title, "seconds into the run", "latency (ms)")
	p50, p99 := make(plotter.XYs, len(r.Timeline)), make(plotter.XYs, len(r.Timeline))
	for i, s := range r.Timeline {
		p50[i] = plotter.XY{X: s.At, Y: s.P50}
		p99[i] = plotter.XY{X: s.At, Y: s.P99}
	}
	if err := f.addLine("p50", p50, blue); err != nil {
		return nil, err
	}
	if err := f.addLine("p99", p99, red); err != nil {
		return nil, err
	}
	f.p.Y.Min = 0
	f.addGoals(goals)
	return f, nil
}

// PlotRate writes a PNG of answers per second over the run, with goal
// lines (for instance the offered rate).
func PlotRate(r *Result, title, path string, goals ...Goal) error {
	f, err := rateFigure(r, title, goals)
	if err != nil {
		return err
	}
	return f.save(9*vg.Inch, 3*vg.Inch, path)
}

func rateFigure(r *Result, title string, goals []Goal) (*figure, error) {
	if len(r.Timeline) == 0 {
		return nil, fmt.Errorf("%w: no timeline to plot (run shorter than a second)", ErrLimit)
	}
	f := newFigure(title, "seconds into the run", "answers per second")
	xy := make(plotter.XYs, len(r.Timeline))
	for i, s := range r.Timeline {
		xy[i] = plotter.XY{X: s.At, Y: s.Rate}
	}
	if err := f.addLine("answers/s", xy, green); err != nil {
		return nil, err
	}
	f.p.Y.Min = 0
	f.addGoals(goals)
	return f, nil
}

// PlotScaling writes a PNG of throughput against the number of terminals,
// one series each. With at most two terminal counts it is a bar chart
// (a line through two points suggests a trend there is no data for);
// with more, lines on a logarithmic terminal axis.
func PlotScaling(series []Series, title, path string, goals ...Goal) error {
	f, err := scalingFigure(series, title, goals)
	if err != nil {
		return err
	}
	return f.save(7*vg.Inch, 4*vg.Inch, path)
}

func scalingFigure(series []Series, title string, goals []Goal) (*figure, error) {
	var counts []int
	seen := map[int]bool{}
	var used []int // indexes of series with points
	for i, s := range series {
		if len(s.Points) == 0 {
			continue
		}
		used = append(used, i)
		for _, pt := range s.Points {
			if !seen[pt.Terminals] {
				seen[pt.Terminals] = true
				counts = append(counts, pt.Terminals)
			}
		}
	}
	if len(used) == 0 {
		return nil, fmt.Errorf("%w: nothing to plot", ErrLimit)
	}
	sort.Ints(counts)
	f := newFigure(title, "terminals", "answers per second")
	colors := []color.Color{blue, red, green}
	if len(counts) <= 2 {
		f.bars = true
		width := vg.Points(24)
		for k, i := range used {
			vals := make(plotter.Values, len(counts))
			for j, n := range counts {
				for _, pt := range series[i].Points {
					if pt.Terminals == n {
						vals[j] = pt.Throughput
					}
				}
			}
			b, err := plotter.NewBarChart(vals, width)
			if err != nil {
				return nil, err
			}
			b.Color = colors[i%len(colors)]
			b.LineStyle.Width = 0
			b.Offset = width * (vg.Length(k) - vg.Length(len(used)-1)/2)
			f.p.Add(b)
			f.addLegend(series[i].Name, b)
		}
		names := make([]string, len(counts))
		for j, n := range counts {
			names[j] = strconv.Itoa(n)
		}
		f.p.NominalX(names...)
	} else {
		f.p.X.Scale = plot.LogScale{}
		f.p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		for _, i := range used {
			s := series[i]
			xy := make(plotter.XYs, len(s.Points))
			for j, pt := range s.Points {
				xy[j] = plotter.XY{X: float64(max(pt.Terminals, 1)), Y: pt.Throughput}
			}
			if err := f.addLine(s.Name, xy, colors[i%len(colors)]); err != nil {
				return nil, err
			}
		}
	}
	f.p.Y.Min = 0
	f.addGoals(goals)
	return f, nil
}
