# V4: compute to reach eps against P, normalised by each curve's minimum.
set terminal pngcairo size 1200,560 noenhanced font ',11'
set output out
# one colour per lambda (Tableau 10); the points of each lambda nudged
# sideways (a few percent in P) so that their intervals do not hide each other
cols = "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f"
set logscale x
set logscale y
set format y '%g'
set xtics ("1" 1, "2" 2, "3" 3, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100, "inf" 300)
set xrange [0.9:400]
set xlabel "period P"
set ylabel "compute T c(P) / its minimum over P"
at = (exists("r") && r ne "" && exists("eps") && eps ne "") ? sprintf(" at r = c_msign/c_grad = %s, eps = %s ||g_0||_N", r, eps) : ""
set title "V4 on geometry(lambda): compute for the theorem's left side to reach eps".at."\nempirical (points, 95% t interval, tuned) and predicted by the bound (solid lines; dashed: statement version)"
set grid lc rgb '#d0d0d0' lt 1 dt 3
set key outside right top vertical Left reverse font ",10"
stats data using 1 nooutput
nb = STATS_blocks - 1  # the trailing blank lines count as a block
nudge(i) = 1.035**(i - (nb - 1) / 2.0)
plot for [i=0:nb-1] data index i using ($1*nudge(i)):2:3 with yerrorbars pt 7 ps 0.8 lc rgb word(cols, i+1) title sprintf("lambda %s empirical", word(lams, i+1)), \
     for [i=0:nb-1] data index i using 1:4 with lines lw 2 lc rgb word(cols, i+1) title sprintf("lambda %s predicted", word(lams, i+1)), \
     for [i=0:nb-1] data index i using 1:5 with lines dt 2 lc rgb word(cols, i+1) notitle
