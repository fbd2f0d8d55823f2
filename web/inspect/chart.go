package inspect

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// BarChart is a horizontal bar chart drawn as SVG on the server, so it needs
// no script. It is an image with a title and a description (role="img",
// aria-labelledby); the page puts a table with the same figures next to it
// as its text alternative. Horizontal bars keep the labels readable on a
// 320 px screen: the SVG scales to its container's width, and its drawing is
// narrow so that its text stays readable when it shrinks to fit a phone.
type BarChart struct {
	// ID prefixes the ids of the title and description (unique in a page).
	ID    string
	Title string
	Desc  string
	// Max is the value a full-width bar stands for; zero means the largest
	// bar's value.
	Max  float64
	Bars []Bar
}

// Bar is one bar: its label, value, and the value as text shown beside it.
type Bar struct {
	Label string
	Value float64
	Text  string
	// Hatched bars are drawn with a pattern as well as a colour, so the
	// difference does not rest on colour alone (provisional figures).
	Hatched bool
}

// Layout of the drawing, in SVG user units.
const (
	chartWidth  = 360
	labelWidth  = 80
	valueWidth  = 70
	barHeight   = 24
	barGap      = 10
	chartMargin = 8
)

// Geometry is where a bar is drawn: its width in user units.
func (c BarChart) barWidth(v float64) float64 {
	maxV := c.Max
	if maxV <= 0 {
		for _, b := range c.Bars {
			maxV = math.Max(maxV, b.Value)
		}
	}
	if maxV <= 0 || math.IsNaN(v) || v <= 0 {
		return 0
	}
	return math.Round(math.Min(v/maxV, 1)*(chartWidth-labelWidth-valueWidth)*10) / 10
}

// SVG draws the chart. Every text in it is escaped, so the result is safe
// to put in a page as it is.
func (c BarChart) SVG() template.HTML {
	e := html.EscapeString
	h := 2*chartMargin + len(c.Bars)*(barHeight+barGap)
	if len(c.Bars) == 0 {
		h = 2*chartMargin + barHeight
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="gl-chart" viewBox="0 0 %d %d" width="100%%" `+
		`preserveAspectRatio="xMinYMin meet" font-family="GDS Transport, arial, sans-serif" role="img" aria-labelledby="%s-title %s-desc" focusable="false">`,
		chartWidth, h, e(c.ID), e(c.ID))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, e(c.ID), e(c.Title), e(c.ID), e(c.Desc))
	fmt.Fprintf(&b, `<defs><pattern id="%s-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
		`<rect width="8" height="8" fill="#1d70b8"/><rect width="3" height="8" fill="#ffffff"/></pattern></defs>`, e(c.ID))
	if len(c.Bars) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" fill="#0b0c0c">No figures yet</text>`, chartMargin, chartMargin+17)
	}
	for k, bar := range c.Bars {
		y := chartMargin + k*(barHeight+barGap)
		fill := "#1d70b8"
		if bar.Hatched {
			fill = "url(#" + e(c.ID) + "-hatch)"
		}
		w := c.barWidth(bar.Value)
		fmt.Fprintf(&b, `<g class="app-chart__bar">`+
			`<text x="%d" y="%d" font-size="14" text-anchor="end" fill="#0b0c0c">%s</text>`+
			`<rect x="%d" y="%d" width="%g" height="%d" fill="%s" stroke="#0b0c0c" stroke-width="%s"/>`+
			`<text x="%g" y="%d" font-size="14" fill="#0b0c0c">%s</text></g>`,
			labelWidth-8, y+17, e(bar.Label),
			labelWidth, y, w, barHeight, fill, strokeWidth(w),
			float64(labelWidth)+w+8, y+17, e(bar.Text))
	}
	b.WriteString(`</svg>`)
	// Every text above is escaped, and the markup is this function's own.
	return template.HTML(b.String())
}

// A zero-width bar has no outline, so that it draws nothing.
func strokeWidth(w float64) string {
	if w == 0 {
		return "0"
	}
	return "1"
}
