# V3: switching run / pure run, per transition and metric.
# groups (from plots.sh): the (objective, step-size ratio) blocks on the top
# axis, the transition and period of each group of four metrics under the x
# axis.
set terminal pngcairo size 1500,700 noenhanced font ',11'
set output out
set logscale y
set format y '%g'
do for [k=-3:6] { set ytics add (2*10**k, 5*10**k) }
set ylabel "switching / pure (1 = the convex combination)"
set xlabel "transition and period, per block of objective and step-size ratio r = eta_L/eta_M (top)"
set tmargin 6
set title offset 0, 1.5
set title "V3: R_t, local smoothness, momentum error, noise ratio at switches vs pure runs (mean, 95% t interval)"
set grid ytics lc rgb '#d0d0d0' lt 1 dt 3
set key outside right top vertical Left reverse width 1
set autoscale yfix
set lmargin 16
set offsets 0, 0, graph 0.08, graph 0.08
if (exists("groups")) { load groups }
plot data using ($4==0 ? $1 : 1/0):2:3 with yerrorbars pt 7 lc rgb "#1f77b4" title "R_t", \
     data using ($4==1 ? $1 : 1/0):2:3 with yerrorbars pt 5 lc rgb "#ff7f0e" title "local smoothness", \
     data using ($4==2 ? $1 : 1/0):2:3 with yerrorbars pt 9 lc rgb "#2ca02c" title "momentum error", \
     data using ($4==3 ? $1 : 1/0):2:3 with yerrorbars pt 11 lc rgb "#9467bd" title "noise rho", \
     1 with lines lw 2 lc rgb "black" title "1 (no switching cost)"
